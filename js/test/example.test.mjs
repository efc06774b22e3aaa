// examples/echo.mjs as a user runs it: its server serves native clients
// and its own client, each in a process of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const example = fileURLToPath(new URL('../examples/echo.mjs', import.meta.url));

/** Send `lines` to `port` with a half-close; everything received. */
async function nativeClient(port, lines) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end(lines.join(''));
  const chunks = [];
  for await (const chunk of socket) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

test('the example server echoes native clients and the example client', async () => {
  const server = spawn(process.execPath, [example, 'server', '0', '--clients', '4'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(server, 'exit');
  let output = '';
  server.stdout.setEncoding('utf8');
  const announced = new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/^listening on 127\.0\.0\.1:(\d+)\n/);
      if (match) resolve(Number(match[1]));
    });
    exited.then(() => reject(new Error(`the server exited: ${output}`)));
  });
  const port = await announced;

  const replies = await Promise.all([
    nativeClient(port, ['one\n', 'two\n']),
    nativeClient(port, ['three\n']),
    nativeClient(port, ['a line without its newline']),
  ]);
  assert.deepEqual(replies, ['one\ntwo\n', 'three\n', 'a line without its newline']);

  const { stdout } = await new Promise((resolve, reject) => {
    execFile(process.execPath, [example, 'client', '127.0.0.1', String(port), 'hello', 'wasio'],
      { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })));
  });
  assert.equal(stdout, 'hello\nwasio\n');

  const [code] = await exited;
  assert.equal(code, 0);
  assert.equal(output, `listening on 127.0.0.1:${port}\nserved 4 clients\n`);
});

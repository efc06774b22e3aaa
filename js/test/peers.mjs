// Native peers for the tests, each in a worker thread: wasio's calls block
// the main thread (preview2-shim waits synchronously), so a peer on the
// main thread's event loop could never answer.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

const PEER = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.mode === 'echo-server') {
  const server = net.createServer((socket) => socket.pipe(socket));
  server.listen(0, workerData.host, () => parentPort.postMessage(server.address().port));
} else if (workerData.mode === 'client') {
  // Connect, send every line, collect what comes back until the peer closes.
  const socket = net.connect(workerData.port, workerData.host, () => {
    for (const line of workerData.lines) socket.write(line);
    socket.end();
  });
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('close', () => parentPort.postMessage(Buffer.concat(chunks).toString()));
  socket.on('error', (error) => parentPort.postMessage('error: ' + error.message));
}
`;

function start(workerData) {
  return new Worker(PEER, { eval: true, workerData });
}

/** A native TCP echo server; `{ port, stop }`. */
export async function echoServer(host = '127.0.0.1') {
  const worker = start({ mode: 'echo-server', host });
  const [port] = await once(worker, 'message');
  return { port, stop: () => worker.terminate() };
}

/** A native client that sends `lines` to `port` and half-closes; resolves
 * to everything it received once the connection closed. */
export function client(port, lines, host = '127.0.0.1') {
  const worker = start({ mode: 'client', host, port, lines });
  return once(worker, 'message').then(([text]) => {
    worker.terminate();
    return text;
  });
}

// wasio from JavaScript: dist/wasio-tcp.wasm transpiled by jco, on Node.
//
//   node examples/echo.mjs server [PORT] [--clients N]
//       a line-echo server on 127.0.0.1: one poll loop serves every client
//       at once through the non-blocking forms and their pollables; stops
//       after N clients (default: never)
//   node examples/echo.mjs client HOST PORT LINE...
//       sends each LINE, prints each reply (the blocking forms)
//
// `npm run transpile` (or `npm test`) writes out/wasio-tcp/ first.
import { poll } from '@bytecodealliance/preview2-shim/io';
import { tcp } from '../out/wasio-tcp/wasio.js';

const SECOND = 1_000_000_000n;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wasio error a call threw, or `undefined` if it returned. */
function attempt(call) {
  try {
    return { value: call() };
  } catch (error) {
    if (error.payload === undefined) throw error;
    return { error: error.payload };
  }
}

function client(host, port, lines) {
  const [reader, writer] = tcp.blockingOpenConnection(host, Number(port), undefined);
  for (const line of lines) {
    writer.write(encoder.encode(`${line}\n`));
    writer.blockingDrain(10n * SECOND);
    process.stdout.write(decoder.decode(reader.blockingReadline(10n * SECOND)));
  }
  writer.close();
  writer.blockingWaitClosed(10n * SECOND);
}

function server(port, maxClients) {
  const listener = tcp.startServer('127.0.0.1', Number(port), undefined);
  const [address] = listener.sockets();
  console.log(`listening on 127.0.0.1:${address.val.val.port}`);
  const clients = new Set();
  let served = 0;
  while (served < maxClients || clients.size > 0) {
    // Accept whoever is waiting.
    for (;;) {
      if (served >= maxClients) break;
      const accepted = attempt(() => listener.accept());
      if (accepted.error) break; // would-block: nobody waits
      const [reader, writer] = accepted.value;
      clients.add({ reader, writer });
      served += 1;
    }
    // Echo every complete line; close a client at its end of file.
    for (const connection of [...clients]) {
      for (;;) {
        const line = attempt(() => connection.reader.readline());
        if (line.error?.tag === 'would-block') break;
        if (line.error || line.value.length === 0) {
          connection.writer.close();
          connection.writer.blockingWaitClosed(10n * SECOND);
          clients.delete(connection);
          break;
        }
        connection.writer.write(line.value);
      }
    }
    if (served >= maxClients && clients.size === 0) break;
    // Wait until the listener or any client can make progress; writes
    // buffered above go out while wasio is asked for the pollables.
    const pollables = [...clients].map(({ reader }) => reader.subscribe());
    if (served < maxClients) pollables.push(...listener.subscribe());
    poll.poll(pollables);
    pollables.forEach((pollable) => pollable[Symbol.dispose]());
  }
  listener.close();
  console.log(`served ${served} clients`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'client' && args.length >= 2) {
  client(args[0], args[1], args.slice(2));
} else if (mode === 'server') {
  const at = args.indexOf('--clients');
  const maxClients = at >= 0 ? Number(args[at + 1]) : Infinity;
  const port = args[0] !== undefined && at !== 0 ? args[0] : 0;
  server(port, maxClients);
} else {
  console.error('usage: echo.mjs server [PORT] [--clients N] | echo.mjs client HOST PORT LINE...');
  process.exit(2);
}

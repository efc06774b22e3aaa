// dist/wasio-tcp.wasm transpiled by jco (npm run transpile) and driven
// from Node with @bytecodealliance/preview2-shim, against native peers in
// worker threads: the blocking forms, the non-blocking forms with their
// pollables, a server, the standalone reader and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from '@bytecodealliance/preview2-shim/io';
import { streams, tcp } from '../out/wasio-tcp/wasio.js';
import { client, echoServer } from './peers.mjs';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text) => encoder.encode(text);
const text = (data) => decoder.decode(data);

/** 1 s, as a WIT `duration` (nanoseconds). */
const SECOND = 1_000_000_000n;
/** The longest any one call here may block. */
const TIMEOUT = 20n * SECOND;

/** The WIT error a wasio call threw (jco's ComponentError payload). */
function wasioError(call) {
  try {
    call();
  } catch (error) {
    if (error.payload !== undefined) return error.payload;
    throw error;
  }
  assert.fail('the call succeeded');
}

/** Call a non-blocking form until it stops answering `would-block`,
 * waiting on `subscribe()`'s pollable in between (at most `rounds`). */
function untilReady(call, subscribe, rounds = 10_000) {
  for (let round = 0; round < rounds; round++) {
    try {
      return call();
    } catch (error) {
      if (error.payload?.tag !== 'would-block') throw error;
    }
    const pollable = subscribe();
    poll.poll([pollable]);
    pollable[Symbol.dispose]();
  }
  assert.fail(`still would-block after ${rounds} rounds`);
}

test('blocking forms: readline, readuntil with two separators, readexactly of 4 MiB', async () => {
  const peer = await echoServer();
  try {
    const [reader, writer] = tcp.blockingOpenConnection('127.0.0.1', peer.port, undefined);
    writer.write(bytes('hello, wasio\n'));
    writer.blockingDrain(TIMEOUT);
    assert.equal(text(reader.blockingReadline(TIMEOUT)), 'hello, wasio\n');

    writer.writelines([bytes('a;b'), bytes('\r\nc')]);
    const separators = [bytes(';'), bytes('\r\n')];
    assert.equal(text(reader.blockingReaduntil(separators, TIMEOUT)), 'a;');
    assert.equal(text(reader.blockingReaduntil(separators, TIMEOUT)), 'b\r\n');
    assert.equal(text(reader.blockingReadexactly(1n, TIMEOUT)), 'c');

    const frame = new Uint8Array(4 << 20).map((_, i) => i % 251);
    writer.write(frame);
    const echoed = reader.blockingReadexactly(BigInt(frame.length), TIMEOUT);
    assert.deepEqual(echoed, frame);

    const info = writer.getExtraInfo();
    assert.equal(info.family, 'ipv4');
    assert.equal(info.peername.val.val.port, peer.port);

    // No write-eof here: preview2-shim 0.26 implements shutdown(send) as
    // destroying the socket, so a half-close ends both directions.
    assert.equal(wasioError(() => reader.blockingRead(10n, SECOND / 10n)).tag, 'timed-out');
    writer.close();
    assert.ok(writer.isClosing());
    writer.blockingWaitClosed(TIMEOUT);
  } finally {
    await peer.stop();
  }
});

test('non-blocking forms: three connections driven by one poll', async () => {
  const peer = await echoServer();
  try {
    const connecting = [0, 1, 2].map(() => tcp.openConnection('127.0.0.1', peer.port, undefined));
    const pairs = connecting.map((c) => untilReady(() => c.finish(), () => c.subscribe()));
    pairs.forEach(([, writer], i) => writer.write(bytes(`line from connection ${i}\n`)));

    // Every reader answers would-block until its line is back; poll them
    // all at once and read whichever is ready.
    const lines = new Map();
    for (let round = 0; round < 1000 && lines.size < pairs.length; round++) {
      const waiting = [];
      pairs.forEach(([reader], i) => {
        if (lines.has(i)) return;
        try {
          lines.set(i, text(reader.readline()));
        } catch (error) {
          assert.equal(error.payload?.tag, 'would-block');
          waiting.push(reader.subscribe());
        }
      });
      if (waiting.length > 0) {
        const ready = poll.poll(waiting);
        assert.ok(ready.length > 0);
      }
      waiting.forEach((pollable) => pollable[Symbol.dispose]());
    }
    pairs.forEach((_, i) => assert.equal(lines.get(i), `line from connection ${i}\n`));

    for (const [, writer] of pairs) {
      writer.close();
      untilReady(() => writer.waitClosed(), () => writer.subscribe());
    }
  } finally {
    await peer.stop();
  }
});

test('a wasio server echoes a native client', async () => {
  const server = tcp.startServer('127.0.0.1', 0, undefined);
  const [address] = server.sockets();
  assert.equal(address.tag, 'ip');
  const port = address.val.val.port;
  assert.ok(port > 0);

  const received = client(port, ['one\n', 'two\n', 'three\n']);
  const [reader, writer] = untilReady(() => server.accept(), () => {
    const [pollable] = server.subscribe();
    return pollable;
  });
  for (;;) {
    const line = reader.blockingReadline(TIMEOUT);
    if (line.length === 0) break;
    writer.write(line);
  }
  writer.close();
  writer.blockingWaitClosed(TIMEOUT);
  assert.equal(await received, 'one\ntwo\nthree\n');

  server.close();
  assert.equal(server.isServing(), false);
  server.blockingWaitClosed(TIMEOUT);
  assert.equal(wasioError(() => server.accept()).tag, 'closed');
});

test('the standalone reader: limits and end of file as asyncio', () => {
  const reader = streams.StreamReader.create(4n);
  reader.feedData(bytes('some dataAA'));
  const overrun = wasioError(() => reader.readuntil([bytes('AAA')]));
  assert.equal(overrun.tag, 'limit-overrun');
  assert.equal(overrun.val.separatorFound, false);
  reader.feedData(bytes('A'));
  assert.equal(wasioError(() => reader.readuntil([bytes('AAA')])).val.separatorFound, true);
  assert.equal(text(reader.readexactly(4n)), 'some');
  assert.equal(wasioError(() => reader.readexactly(100n)).tag, 'would-block');
  reader.feedEof();
  const incomplete = wasioError(() => reader.readexactly(100n));
  assert.equal(incomplete.tag, 'incomplete-read');
  assert.equal(text(incomplete.val.partial), ' dataAAA');
  assert.equal(incomplete.val.expected, 100n);
  assert.ok(reader.atEof());
  assert.equal(wasioError(() => streams.StreamReader.create(0n)).tag, 'invalid-argument');
});

test('errors are values: a refused connection, a bad port argument', async () => {
  const peer = await echoServer();
  const port = peer.port;
  await peer.stop();
  // Nothing listens there any more.
  const refused = wasioError(() => tcp.blockingOpenConnection('127.0.0.1', port, undefined));
  assert.equal(refused.tag, 'connection-refused');
  const unresolvable = wasioError(() => tcp.blockingOpenConnection('', port, undefined));
  assert.ok(['name-unresolvable', 'invalid-argument'].includes(unresolvable.tag), unresolvable.tag);
});


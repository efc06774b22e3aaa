"""CPython's Lib/test/test_asyncio/test_streams.py, the cases that concern
the streams' behaviour, ported to run unchanged under CPython (3.11+) and
inside a component with wasio installed.

The originals look at the reader's private `_buffer`; here `remaining`
reads what is left instead (after end of file). Their peers run in
threads or use mocks; here peers are asyncio servers in the same loop.
Cases about loop arguments, warnings, mocks, TLS, pipes and `repr` are
left out: they test CPython's internals, not the streams.

    python3 test_streams.py            # CPython's asyncio
    wasmtime run ... python-asyncio.wasm test_streams   # wasio's
"""

import asyncio
import pickle
import sys
import tempfile
import unittest

DATA = b"line1\nline2\nline3\n"
HTTP_REPLY = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nTest message"


class StreamTestCase(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def tearDown(self):
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
        asyncio.set_event_loop(None)

    def run_(self, coroutine):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, 30))

    def remaining(self, stream):
        """What the stream still buffers (ends the stream)."""
        stream.feed_eof()
        return self.run_(stream.read())

    def capture_messages(self):
        messages = []
        self.loop.set_exception_handler(lambda loop, ctx: messages.append(ctx))
        return messages


class StreamReaderTests(StreamTestCase):
    def test_feed_empty_data(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"")
        self.assertEqual(b"", self.remaining(stream))

    def test_feed_nonempty_data(self):
        stream = asyncio.StreamReader()
        stream.feed_data(DATA)
        self.assertEqual(DATA, self.remaining(stream))

    def test_read_zero(self):
        stream = asyncio.StreamReader()
        stream.feed_data(DATA)
        self.assertEqual(b"", self.run_(stream.read(0)))
        self.assertEqual(DATA, self.remaining(stream))

    def test_read(self):
        stream = asyncio.StreamReader()
        read_task = self.loop.create_task(stream.read(30))
        self.loop.call_soon(stream.feed_data, DATA)
        self.assertEqual(DATA, self.run_(read_task))
        self.assertEqual(b"", self.remaining(stream))

    def test_read_line_breaks(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"line1")
        stream.feed_data(b"line2")
        self.assertEqual(b"line1", self.run_(stream.read(5)))
        self.assertEqual(b"line2", self.remaining(stream))

    def test_read_eof(self):
        stream = asyncio.StreamReader()
        read_task = self.loop.create_task(stream.read(1024))
        self.loop.call_soon(stream.feed_eof)
        self.assertEqual(b"", self.run_(read_task))
        self.assertEqual(b"", self.remaining(stream))

    def test_read_until_eof(self):
        stream = asyncio.StreamReader()
        read_task = self.loop.create_task(stream.read(-1))

        def cb():
            stream.feed_data(b"chunk1\n")
            stream.feed_data(b"chunk2")
            stream.feed_eof()

        self.loop.call_soon(cb)
        self.assertEqual(b"chunk1\nchunk2", self.run_(read_task))

    def test_read_exception(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"line\n")
        self.assertEqual(b"li", self.run_(stream.read(2)))
        stream.set_exception(ValueError())
        self.assertRaises(ValueError, self.run_, stream.read(2))

    def test_invalid_limit(self):
        with self.assertRaisesRegex(ValueError, "imit"):
            asyncio.StreamReader(limit=0)
        with self.assertRaisesRegex(ValueError, "imit"):
            asyncio.StreamReader(limit=-1)

    def test_read_limit(self):
        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"chunk")
        self.assertEqual(b"chunk", self.run_(stream.read(5)))
        self.assertEqual(b"", self.remaining(stream))

    def test_readline(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"chunk1 ")
        read_task = self.loop.create_task(stream.readline())

        def cb():
            stream.feed_data(b"chunk2 ")
            stream.feed_data(b"chunk3 ")
            stream.feed_data(b"\n chunk4")

        self.loop.call_soon(cb)
        self.assertEqual(b"chunk1 chunk2 chunk3 \n", self.run_(read_task))
        self.assertEqual(b" chunk4", self.remaining(stream))

    def test_readline_limit_with_existing_data(self):
        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"li")
        stream.feed_data(b"ne1\nline2\n")
        self.assertRaises(ValueError, self.run_, stream.readline())
        # The rest of the over-long line is discarded, the next one kept.
        self.assertEqual(b"line2\n", self.remaining(stream))

        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"li")
        stream.feed_data(b"ne1")
        stream.feed_data(b"li")
        self.assertRaises(ValueError, self.run_, stream.readline())
        self.assertEqual(b"", self.remaining(stream))

    def test_at_eof(self):
        stream = asyncio.StreamReader()
        self.assertFalse(stream.at_eof())
        stream.feed_data(b"some data\n")
        self.assertFalse(stream.at_eof())
        self.run_(stream.readline())
        self.assertFalse(stream.at_eof())
        stream.feed_data(b"some data\n")
        stream.feed_eof()
        self.run_(stream.readline())
        self.assertTrue(stream.at_eof())

    def test_readline_limit(self):
        stream = asyncio.StreamReader(limit=7)

        def cb():
            stream.feed_data(b"chunk1")
            stream.feed_data(b"chunk2")
            stream.feed_data(b"chunk3\n")
            stream.feed_eof()

        self.loop.call_soon(cb)
        self.assertRaises(ValueError, self.run_, stream.readline())
        self.assertEqual(b"", self.run_(stream.read()))

        stream = asyncio.StreamReader(limit=7)

        def cb():
            stream.feed_data(b"chunk1")
            stream.feed_data(b"chunk2\n")
            stream.feed_data(b"chunk3\n")
            stream.feed_eof()

        self.loop.call_soon(cb)
        self.assertRaises(ValueError, self.run_, stream.readline())
        self.assertEqual(b"chunk3\n", self.run_(stream.read()))

        # The limit is strict.
        stream = asyncio.StreamReader(limit=7)
        stream.feed_data(b"1234567\n")
        self.assertEqual(b"1234567\n", self.run_(stream.readline()))
        stream.feed_data(b"12345678\n")
        with self.assertRaises(ValueError):
            self.run_(stream.readline())
        stream.feed_data(b"12345678")
        with self.assertRaises(ValueError):
            self.run_(stream.readline())
        self.assertEqual(b"", self.remaining(stream))

    def test_readline_nolimit_nowait(self):
        stream = asyncio.StreamReader()
        stream.feed_data(DATA[:6])
        stream.feed_data(DATA[6:])
        self.assertEqual(b"line1\n", self.run_(stream.readline()))
        self.assertEqual(b"line2\nline3\n", self.remaining(stream))

    def test_readline_eof(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"some data")
        stream.feed_eof()
        self.assertEqual(b"some data", self.run_(stream.readline()))

    def test_readline_empty_eof(self):
        stream = asyncio.StreamReader()
        stream.feed_eof()
        self.assertEqual(b"", self.run_(stream.readline()))

    def test_readline_read_byte_count(self):
        stream = asyncio.StreamReader()
        stream.feed_data(DATA)
        self.run_(stream.readline())
        self.assertEqual(b"line2\nl", self.run_(stream.read(7)))
        self.assertEqual(b"ine3\n", self.remaining(stream))

    def test_readline_exception(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"line\n")
        self.assertEqual(b"line\n", self.run_(stream.readline()))
        stream.set_exception(ValueError())
        self.assertRaises(ValueError, self.run_, stream.readline())

    def test_readuntil_separator(self):
        stream = asyncio.StreamReader()
        with self.assertRaisesRegex(ValueError, "Separator should be"):
            self.run_(stream.readuntil(separator=b""))

    @unittest.skipIf(sys.version_info < (3, 13), "several separators: 3.13+")
    def test_readuntil_separator_tuples(self):
        stream = asyncio.StreamReader()
        with self.assertRaisesRegex(ValueError, "Separator should be"):
            self.run_(stream.readuntil(separator=(b"",)))
        with self.assertRaisesRegex(ValueError, "Separator should contain"):
            self.run_(stream.readuntil(separator=()))

    def test_readuntil_multi_chunks(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"lineAAA")
        self.assertEqual(b"lineAAA", self.run_(stream.readuntil(separator=b"AAA")))
        stream.feed_data(b"lineAAA")
        self.assertEqual(b"lineAAA", self.run_(stream.readuntil(b"AAA")))
        stream.feed_data(b"lineAAAxxx")
        self.assertEqual(b"lineAAA", self.run_(stream.readuntil(b"AAA")))
        self.assertEqual(b"xxx", self.remaining(stream))

    def test_readuntil_multi_chunks_1(self):
        stream = asyncio.StreamReader()
        for chunks, expected in (
            ((b"QWEaa", b"XYaa", b"a"), b"QWEaaXYaaa"),
            ((b"QWEaa", b"XYa", b"aa"), b"QWEaaXYaaa"),
            ((b"aaa",), b"aaa"),
            ((b"Xaaa",), b"Xaaa"),
            ((b"XXX", b"a", b"a", b"a"), b"XXXaaa"),
        ):
            for chunk in chunks:
                stream.feed_data(chunk)
            self.assertEqual(expected, self.run_(stream.readuntil(b"aaa")))
        self.assertEqual(b"", self.remaining(stream))

    def test_readuntil_eof(self):
        stream = asyncio.StreamReader()
        data = b"some dataAA"
        stream.feed_data(data)
        stream.feed_eof()
        with self.assertRaisesRegex(
            asyncio.IncompleteReadError, "undefined expected bytes"
        ) as cm:
            self.run_(stream.readuntil(b"AAA"))
        self.assertEqual(cm.exception.partial, data)
        self.assertIsNone(cm.exception.expected)
        self.assertEqual(b"", self.run_(stream.read()))

    def test_readuntil_limit_found_sep(self):
        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"some dataAA")
        with self.assertRaisesRegex(asyncio.LimitOverrunError, "not found"):
            self.run_(stream.readuntil(b"AAA"))
        stream.feed_data(b"A")
        with self.assertRaisesRegex(asyncio.LimitOverrunError, "is found") as cm:
            self.run_(stream.readuntil(b"AAA"))
        self.assertEqual(cm.exception.consumed, 9)
        # readuntil keeps the data.
        self.assertEqual(b"some dataAAA", self.remaining(stream))

    @unittest.skipIf(sys.version_info < (3, 13), "several separators: 3.13+")
    def test_readuntil_multi_separator(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"line 1\nline 2\r")
        self.assertEqual(b"line 1\n", self.run_(stream.readuntil((b"\r", b"\n"))))
        self.assertEqual(b"line 2\r", self.run_(stream.readuntil((b"\r", b"\n"))))
        # The first end position matches, even if that is a longer match.
        stream.feed_data(b"ABCDEFG")
        self.assertEqual(b"ABCDE", self.run_(stream.readuntil((b"DEF", b"BCDE"))))
        self.assertEqual(b"FG", self.remaining(stream))

    @unittest.skipIf(sys.version_info < (3, 13), "several separators: 3.13+")
    def test_readuntil_multi_separator_limit(self):
        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"some dataA")
        with self.assertRaisesRegex(asyncio.LimitOverrunError, "is found"):
            self.run_(stream.readuntil((b"A", b"ome dataA")))
        self.assertEqual(b"some dataA", self.remaining(stream))

    @unittest.skipIf(sys.version_info < (3, 13), "several separators: 3.13+")
    def test_readuntil_multi_separator_negative_offset(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"data")
        readuntil_task = self.loop.create_task(stream.readuntil((b"A", b"long sep")))
        self.loop.call_soon(stream.feed_data, b"Z")
        self.loop.call_soon(stream.feed_data, b"Aaaa")
        self.assertEqual(b"dataZA", self.run_(readuntil_task))
        self.assertEqual(b"aaa", self.remaining(stream))

    def test_readuntil_bytearray(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"some data\r\n")
        self.assertEqual(b"some data\r\n", self.run_(stream.readuntil(bytearray(b"\r\n"))))
        self.assertEqual(b"", self.remaining(stream))

    def test_readexactly_zero_or_less(self):
        stream = asyncio.StreamReader()
        stream.feed_data(DATA)
        self.assertEqual(b"", self.run_(stream.readexactly(0)))
        with self.assertRaisesRegex(ValueError, "less than zero"):
            self.run_(stream.readexactly(-1))
        self.assertEqual(DATA, self.remaining(stream))

    def test_readexactly(self):
        stream = asyncio.StreamReader()
        n = 2 * len(DATA)
        read_task = self.loop.create_task(stream.readexactly(n))

        def cb():
            stream.feed_data(DATA)
            stream.feed_data(DATA)
            stream.feed_data(DATA)

        self.loop.call_soon(cb)
        self.assertEqual(DATA + DATA, self.run_(read_task))
        self.assertEqual(DATA, self.remaining(stream))

    def test_readexactly_limit(self):
        stream = asyncio.StreamReader(limit=3)
        stream.feed_data(b"chunk")
        self.assertEqual(b"chunk", self.run_(stream.readexactly(5)))
        self.assertEqual(b"", self.remaining(stream))

    def test_readexactly_eof(self):
        stream = asyncio.StreamReader()
        n = 2 * len(DATA)
        read_task = self.loop.create_task(stream.readexactly(n))

        def cb():
            stream.feed_data(DATA)
            stream.feed_eof()

        self.loop.call_soon(cb)
        with self.assertRaises(asyncio.IncompleteReadError) as cm:
            self.run_(read_task)
        self.assertEqual(cm.exception.partial, DATA)
        self.assertEqual(cm.exception.expected, n)
        self.assertEqual(
            str(cm.exception), "18 bytes read on a total of 36 expected bytes"
        )
        self.assertEqual(b"", self.run_(stream.read()))

    def test_readexactly_exception(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"line\n")
        self.assertEqual(b"li", self.run_(stream.readexactly(2)))
        stream.set_exception(ValueError())
        self.assertRaises(ValueError, self.run_, stream.readexactly(2))

    def test_exception(self):
        stream = asyncio.StreamReader()
        self.assertIsNone(stream.exception())
        exc = ValueError()
        stream.set_exception(exc)
        self.assertIs(stream.exception(), exc)

    def test_exception_waiter(self):
        stream = asyncio.StreamReader()

        async def set_err():
            stream.set_exception(ValueError())

        t1 = self.loop.create_task(stream.readline())
        t2 = self.loop.create_task(set_err())
        self.run_(asyncio.wait([t1, t2]))
        self.assertRaises(ValueError, t1.result)

    def test_exception_cancel(self):
        stream = asyncio.StreamReader()
        t = self.loop.create_task(stream.readline())
        self.run_(asyncio.sleep(0))
        t.cancel()
        self.run_(asyncio.sleep(0))
        # The following line fails if set_exception() isn't careful.
        stream.set_exception(RuntimeError("message"))
        self.run_(asyncio.sleep(0))
        self.assertTrue(t.cancelled())

    def test_concurrent_reads(self):
        stream = asyncio.StreamReader()
        t1 = self.loop.create_task(stream.readline())
        self.run_(asyncio.sleep(0))
        with self.assertRaisesRegex(RuntimeError, "already waiting"):
            self.run_(stream.read(1))
        stream.feed_data(b"line\n")
        self.assertEqual(b"line\n", self.run_(t1))

    def test_async_iteration(self):
        stream = asyncio.StreamReader()
        stream.feed_data(b"one\ntwo\nthree")
        stream.feed_eof()

        async def lines():
            return [line async for line in stream]

        self.assertEqual([b"one\n", b"two\n", b"three"], self.run_(lines()))

    def test_IncompleteReadError_pickleable(self):
        e = asyncio.IncompleteReadError(b"abc", 10)
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            e2 = pickle.loads(pickle.dumps(e, protocol=proto))
            self.assertEqual(str(e), str(e2))
            self.assertEqual(e.partial, e2.partial)
            self.assertEqual(e.expected, e2.expected)

    def test_LimitOverrunError_pickleable(self):
        e = asyncio.LimitOverrunError("message", 10)
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            e2 = pickle.loads(pickle.dumps(e, protocol=proto))
            self.assertEqual(str(e), str(e2))
            self.assertEqual(e.consumed, e2.consumed)


class HttpServer:
    """What test_utils.run_test_server gave the originals: answers any
    request with HTTP_REPLY and closes; here an asyncio server in the
    test's loop."""

    def __init__(self, test):
        self.test = test

    def __enter__(self):
        async def handle(reader, writer):
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                pass  # a client that sent nothing
            writer.write(HTTP_REPLY)
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        self.server = self.test.run_(asyncio.start_server(handle, "127.0.0.1", 0))
        self.address = self.server.sockets[0].getsockname()[:2]
        return self

    def __exit__(self, *exc):
        self.server.close()
        self.test.run_(self.server.wait_closed())


class StreamConnectionTests(StreamTestCase):
    def _basetest_open_connection(self, open_connection_fut):
        messages = self.capture_messages()
        reader, writer = self.run_(open_connection_fut)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(b"HTTP/1.0 200 OK\r\n", self.run_(reader.readline()))
        self.assertTrue(self.run_(reader.read()).endswith(b"\r\n\r\nTest message"))
        writer.close()
        self.run_(writer.wait_closed())
        self.assertEqual(messages, [])

    def test_open_connection(self):
        with HttpServer(self) as httpd:
            self._basetest_open_connection(asyncio.open_connection(*httpd.address))

    def test_open_connection_error(self):
        # A port nothing listens on: where a server just was.
        with HttpServer(self) as httpd:
            address = httpd.address
        with self.assertRaises(ConnectionRefusedError):
            self.run_(asyncio.open_connection(*address))

    def test_start_server(self):
        messages = self.capture_messages()

        async def handle_client(client_reader, client_writer):
            data = await client_reader.readline()
            client_writer.write(data)
            await client_writer.drain()
            client_writer.close()
            await client_writer.wait_closed()

        def handle_client_callback(client_reader, client_writer):
            self.loop.create_task(handle_client(client_reader, client_writer))

        async def client(addr):
            reader, writer = await asyncio.open_connection(*addr)
            writer.write(b"hello world!\n")
            msgback = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return msgback

        for handler in (handle_client, handle_client_callback):
            server = self.run_(asyncio.start_server(handler, "127.0.0.1", 0))
            addr = server.sockets[0].getsockname()[:2]
            self.assertEqual(b"hello world!\n", self.run_(client(addr)))
            server.close()
            self.run_(server.wait_closed())
        self.assertEqual(messages, [])

    def test_start_unix_server(self):
        messages = self.capture_messages()

        async def handle_client(client_reader, client_writer):
            data = await client_reader.readline()
            client_writer.write(data)
            await client_writer.drain()
            client_writer.close()
            await client_writer.wait_closed()

        async def client(path):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(b"hello world!\n")
            msgback = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return msgback

        try:
            path = unix_socket_path()
            server = self.run_(asyncio.start_unix_server(handle_client, path))
        except (NotImplementedError, FileNotFoundError) as error:
            # A component without the wasio host's Unix sockets, or files.
            self.skipTest(str(error))
        self.assertEqual(b"hello world!\n", self.run_(client(path)))
        server.close()
        self.run_(server.wait_closed())
        self.assertEqual(messages, [])

    def test_drain_raises(self):
        messages = self.capture_messages()

        async def close_at_once(reader, writer):
            writer.close()

        async def client(host, port):
            reader, writer = await asyncio.open_connection(host, port)
            # The original's peer closes its socket at once: wait for that.
            self.assertEqual(b"", await reader.read())
            # Bounded: the peer's reset arrives long before.
            for _ in range(1_000_000):
                writer.write(b"foo\n")
                await writer.drain()

        server = self.run_(asyncio.start_server(close_at_once, "127.0.0.1", 0))
        addr = server.sockets[0].getsockname()[:2]
        with self.assertRaises(
            (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
        ):
            self.run_(client(*addr))
        server.close()
        self.run_(server.wait_closed())
        self.assertEqual([], messages)

    def test_wait_closed_on_close(self):
        with HttpServer(self) as httpd:
            rd, wr = self.run_(asyncio.open_connection(*httpd.address))
            wr.write(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(b"HTTP/1.0 200 OK\r\n", self.run_(rd.readline()))
            self.assertTrue(self.run_(rd.read()).endswith(b"\r\n\r\nTest message"))
            self.assertFalse(wr.is_closing())
            wr.close()
            self.assertTrue(wr.is_closing())
            self.run_(wr.wait_closed())

    def test_wait_closed_on_close_with_unread_data(self):
        with HttpServer(self) as httpd:
            rd, wr = self.run_(asyncio.open_connection(*httpd.address))
            wr.write(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(b"HTTP/1.0 200 OK\r\n", self.run_(rd.readline()))
            wr.close()
            self.run_(wr.wait_closed())

    def test_async_writer_api(self):
        async def inner(httpd):
            rd, wr = await asyncio.open_connection(*httpd.address)
            wr.write(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(b"HTTP/1.0 200 OK\r\n", await rd.readline())
            self.assertTrue((await rd.read()).endswith(b"\r\n\r\nTest message"))
            wr.close()
            await wr.wait_closed()

        messages = self.capture_messages()
        with HttpServer(self) as httpd:
            self.run_(inner(httpd))
        self.assertEqual(messages, [])

    def test_async_writer_api_exception_after_close(self):
        async def inner(httpd):
            rd, wr = await asyncio.open_connection(*httpd.address)
            wr.write(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(b"HTTP/1.0 200 OK\r\n", await rd.readline())
            self.assertTrue((await rd.read()).endswith(b"\r\n\r\nTest message"))
            wr.close()
            with self.assertRaises(ConnectionResetError):
                wr.write(b"data")
                await wr.drain()

        messages = self.capture_messages()
        with HttpServer(self) as httpd:
            self.run_(inner(httpd))
        self.assertEqual(messages, [])

    def test_eof_feed_when_closing_writer(self):
        messages = self.capture_messages()
        with HttpServer(self) as httpd:
            rd, wr = self.run_(asyncio.open_connection(*httpd.address))
            wr.close()
            self.run_(wr.wait_closed())
            self.assertTrue(rd.at_eof())
            self.assertEqual(b"", self.run_(rd.read()))
        self.assertEqual(messages, [])

    def test_unhandled_exception(self):
        messages = self.capture_messages()

        async def handle_echo(reader, writer):
            raise Exception("test")

        async def main():
            server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            # The server closes the connection after the handler failed.
            self.assertEqual(b"", await reader.read())
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())
        self.assertEqual(
            messages[0]["message"], "Unhandled exception in client_connected_cb"
        )

    @unittest.skipIf(sys.version_info < (3, 12), "3.11 reports the cancellation")
    def test_unhandled_cancel(self):
        messages = self.capture_messages()

        async def handle_echo(reader, writer):
            writer.close()
            asyncio.current_task().cancel()

        async def main():
            server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            self.assertEqual(b"", await reader.read())
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())
        self.assertEqual(messages, [])

    def test_server_async_with_and_serve_forever(self):
        async def handle(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            async with server:
                serving = asyncio.ensure_future(server.serve_forever())
                await asyncio.sleep(0)
                self.assertTrue(server.is_serving())
                reader, writer = await asyncio.open_connection(*addr)
                writer.write(b"ping\n")
                self.assertEqual(b"ping\n", await reader.readline())
                self.assertEqual(b"", await reader.read())
                writer.close()
                await writer.wait_closed()
                serving.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await serving
            self.assertFalse(server.is_serving())

        self.run_(main())

    @unittest.skipUnless(
        hasattr(asyncio.StreamWriter, "__aenter__"), "wasio's extension"
    )
    def test_writer_async_with_closes(self):
        async def handle(reader, writer):
            async with writer:
                writer.write(await reader.readline())

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            async with writer:
                writer.write(b"ping\n")
                self.assertEqual(b"ping\n", await reader.readline())
                self.assertEqual(b"", await reader.read())
            self.assertTrue(writer.is_closing())
            server.close()
            await server.wait_closed()

        self.run_(main())

    def test_readexactly_over_connection_beyond_limit(self):
        payload = bytes(range(256)) * 1024  # 256 KiB, four times the limit

        async def handle(reader, writer):
            writer.write(payload)
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            self.assertEqual(payload, await reader.readexactly(len(payload)))
            with self.assertRaises(asyncio.IncompleteReadError) as cm:
                await reader.readexactly(1)
            self.assertEqual((b"", 1), (cm.exception.partial, cm.exception.expected))
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())

    def test_wait_for_times_out_and_the_read_goes_on(self):
        async def handle(reader, writer):
            await reader.readline()
            writer.write(b"late\n")
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            with self.assertRaises(TimeoutError):
                await asyncio.wait_for(reader.readline(), 0.05)
            writer.write(b"go\n")
            self.assertEqual(b"late\n", await reader.readline())
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())

    def test_connection_refused_as_soon_as_the_server_closes(self):
        async def main():
            server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            server.close()
            self.assertEqual((), tuple(server.sockets))
            with self.assertRaises(ConnectionRefusedError):
                await asyncio.open_connection(*addr)
            await server.wait_closed()

        self.run_(main())

    def test_write_eof_after_a_large_write_reaches_the_peer(self):
        payload = bytes(range(256)) * 4096  # 1 MiB: the end of file waits behind it

        async def handle(reader, writer):
            writer.write(await reader.read())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            writer.write(payload)
            writer.write_eof()
            self.assertEqual(payload, await reader.read())
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())

    def test_wait_closed_waits_for_close_by_another_task(self):
        async def handle(reader, writer):
            await reader.read()
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            waiting = asyncio.ensure_future(writer.wait_closed())
            await asyncio.sleep(0.05)
            self.assertFalse(waiting.done())
            writer.close()
            await asyncio.wait_for(waiting, 5)
            server.close()
            await server.wait_closed()

        self.run_(main())

    @unittest.skipIf(sys.version_info < (3, 12), "3.11 does not wait for the clients")
    def test_server_wait_closed_waits_for_its_clients(self):
        release = asyncio.Event()

        async def handle(reader, writer):
            await release.wait()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            await asyncio.sleep(0.05)  # the client is accepted
            server.close()
            waiting = asyncio.ensure_future(server.wait_closed())
            await asyncio.sleep(0.05)
            self.assertFalse(waiting.done())
            release.set()
            await asyncio.wait_for(waiting, 5)
            self.assertEqual(b"", await reader.read())
            writer.close()
            await writer.wait_closed()

        self.run_(main())

    def test_feed_data_wakes_a_read_of_a_connection(self):
        async def handle(reader, writer):
            await reader.read()
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            addr = server.sockets[0].getsockname()[:2]
            reader, writer = await asyncio.open_connection(*addr)
            reading = asyncio.ensure_future(reader.readline())
            await asyncio.sleep(0.01)
            reader.feed_data(b"fed\n")
            self.assertEqual(b"fed\n", await asyncio.wait_for(reading, 5))
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run_(main())


def unix_socket_path():
    global UNIX_DIR
    if UNIX_DIR is None:
        UNIX_DIR = tempfile.mkdtemp()
    return tempfile.mktemp(prefix="wasio-", suffix=".sock", dir=UNIX_DIR)


UNIX_DIR = None


def main(argv):
    """`test_streams.py [--unix-dir DIR] [unittest arguments]`"""
    global UNIX_DIR
    if len(argv) > 2 and argv[1] == "--unix-dir":
        UNIX_DIR = argv[2]
        argv = argv[:1] + argv[3:]
    program = unittest.main(module=__name__, argv=argv, exit=False, verbosity=2)
    result = program.result
    print(
        f"{result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped)} passed, "
        f"{len(result.failures) + len(result.errors)} failed, "
        f"{len(result.skipped)} skipped",
        flush=True,
    )
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

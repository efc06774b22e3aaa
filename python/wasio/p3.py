"""asyncio's streams over wasio's WASI 0.3 contract (`wasio:streams@0.2.0`).

In a component of the world `wasio:python/asyncio-p3@0.2.0` (in
`python/wit/p3`) every call that waits is an `async func`, which
componentize-py binds as a coroutine that its own event loop runs: no
wasio event loop is involved. This module only gives the calls asyncio's
signatures and raises asyncio's exceptions (`IncompleteReadError`,
`LimitOverrunError`, `ConnectionRefusedError`, ...; the same table as the
0.2 streams) instead of componentize-py's `Err`::

    from wasio import p3

    class Run(exports.Run):           # the async wasi:cli/run@0.3.2
        async def run(self) -> None:
            reader, writer = await p3.open_connection("127.0.0.1", 8000)
            writer.write(b"ping\\n")
            await writer.drain()
            print(await reader.readline())
            writer.close()
            await writer.wait_closed()

componentize-py's loop has no timers, so `asyncio.sleep` and
`asyncio.wait_for` do not work there; `asyncio.gather` and tasks do.
"""

import contextlib

from componentize_py_types import Err
from wit_world.imports import tcp, wasio_streams_types

from . import _errors

__all__ = ("StreamReader", "StreamWriter", "open_connection")


@contextlib.contextmanager
def _raising(*, readline=False):
    """Turn a WIT `error` into the exception asyncio raises."""
    try:
        yield
    except Err as error:
        raise _errors.to_exception(error.value, readline=readline) from None


async def open_connection(host, port, *, limit=None):
    """asyncio's `open_connection`: a `(StreamReader, StreamWriter)` pair
    connected to `host`:`port`. `limit` is the reader's (default 64 KiB)."""
    options = None
    if limit is not None:
        # The limit, then the nine other options at their defaults.
        options = wasio_streams_types.ConnectOptions(
            limit, None, None, None, None, None, None, None, None, None
        )
    with _raising():
        reader, writer = await tcp.open_connection(host, port, options)
    return StreamReader(reader), StreamWriter(writer)


class StreamReader:
    """asyncio's `StreamReader` over a `wasio:streams/streams.stream-reader`."""

    def __init__(self, reader):
        self._reader = reader

    async def read(self, n=-1):
        with _raising():
            return await self._reader.read(n)

    async def readline(self):
        with _raising(readline=True):
            return await self._reader.readline()

    async def readuntil(self, separator=b"\n"):
        """`separator` is bytes or, as in Python 3.13, a tuple of them."""
        separators = [separator] if isinstance(separator, bytes) else list(separator)
        with _raising():
            return await self._reader.readuntil(separators)

    async def readexactly(self, n):
        with _raising():
            return await self._reader.readexactly(n)

    def at_eof(self):
        return self._reader.at_eof()


class StreamWriter:
    """asyncio's `StreamWriter` over a `wasio:streams/streams.stream-writer`."""

    def __init__(self, writer):
        self._writer = writer

    def write(self, data):
        with _raising():
            self._writer.write(bytes(data))

    def writelines(self, data):
        with _raising():
            self._writer.writelines([bytes(item) for item in data])

    async def drain(self):
        with _raising():
            await self._writer.drain()

    def can_write_eof(self):
        return self._writer.can_write_eof()

    def write_eof(self):
        with _raising():
            self._writer.write_eof()

    def close(self):
        self._writer.close()

    def is_closing(self):
        return self._writer.is_closing()

    async def wait_closed(self):
        with _raising():
            await self._writer.wait_closed()

"""asyncio's streams over wasio's `wasio:streams` interface.

Every method that can wait calls the non-blocking WIT form; on
`would-block` it waits through the event loop (`_loop.wait`, which takes
the resource's `subscribe` pollable right before it polls) and calls
again, so other tasks run meanwhile.
Names, signatures, results and exceptions follow CPython's
`asyncio/streams.py`.
"""

import asyncio
import ipaddress
import socket
import sys
import weakref

from . import _errors, _loop, _wit

_DEFAULT_LIMIT = 2**16  # 64 KiB, asyncio's

# Seconds a server waits after an accept fails (out of descriptors, say)
# before it tries again, as asyncio's `constants.ACCEPT_RETRY_DELAY`: the
# listener stays ready while a client waits, so retrying at once would spin.
ACCEPT_RETRY_DELAY = 1

__all__ = (
    "StreamReader",
    "StreamWriter",
    "Server",
    "open_connection",
    "start_server",
    "open_unix_connection",
    "start_unix_server",
)


def _call(operation, *args):
    """`operation(*args)`, or raise `_errors.WouldBlock` / the mapped error."""
    Err = _wit.err_class()
    try:
        return operation(*args)
    except Err as err:
        raise _errors.to_exception(err.value) from None


class StreamReader:
    """asyncio's `StreamReader`: a buffer with `read`, `readline`,
    `readuntil`, `readexactly` and a limit.

    `StreamReader()` makes a reader without a transport, fed by
    `feed_data` / `feed_eof`, as in asyncio; readers of connections come
    from `open_connection` and `start_server`.
    """

    def __init__(self, limit=_DEFAULT_LIMIT, loop=None, *, _resource=None):
        # A reader without a transport has no pollable to wait on: only
        # `feed_data`, `feed_eof` and `set_exception` wake its read.
        self._standalone = _resource is None
        if _resource is None:
            if limit <= 0:
                raise ValueError("Limit cannot be <= 0")
            streams = _wit.interface("streams")
            _resource = _call(streams.StreamReader.create, limit)
        self._reader = _resource
        self._limit = limit
        self._exception = None
        self._waiting = None
        # the future the waiting read awaits
        self._waiter = None

    def __repr__(self):
        info = ["StreamReader", f"limit={self._limit}"]
        if self._exception is not None:
            info.append(f"exception={self._exception!r}")
        if self._waiting is not None:
            info.append(f"waiting in {self._waiting}()")
        return "<{}>".format(" ".join(info))

    async def _read(self, name, operation, *args, readline=False):
        if self._exception is not None:
            raise self._exception
        Err = _wit.err_class()
        while True:
            try:
                return operation(*args)
            except Err as err:
                error = err.value
            if not _errors.is_would_block(error):
                if self._exception is not None:
                    raise self._exception
                exception = _errors.to_exception(error, readline=readline)
                if isinstance(exception, RuntimeError) and "another coroutine" in str(
                    exception
                ):
                    exception = RuntimeError(
                        f"{name}() called while another coroutine is "
                        "already waiting for incoming data"
                    )
                raise exception
            if self._waiting is not None:
                raise RuntimeError(
                    f"{name}() called while another coroutine is "
                    "already waiting for incoming data"
                )
            self._waiting = name
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                if self._standalone:
                    await self._waiter
                else:
                    await _loop.wait(self._reader.subscribe, self._waiter)
            finally:
                self._waiting = None
                self._waiter = None
            if self._exception is not None:
                raise self._exception

    def exception(self):
        if self._exception is not None:
            return self._exception
        error = self._reader.exception()
        if error is None:
            return None
        return _errors.to_exception(error)

    def set_exception(self, exc):
        """Make every later read raise `exc` (and wake a waiting one)."""
        self._exception = exc
        types = _wit.interface("types")
        self._reader.set_exception(types.Error_Other(f"{exc!r}"))
        self._wake()

    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def feed_data(self, data):
        if not data:
            return
        Err = _wit.err_class()
        try:
            self._reader.feed_data(bytes(data))
        except Err as err:
            if _errors.is_invalid_state(err.value):
                raise AssertionError("feed_data after feed_eof") from None
            raise _errors.to_exception(err.value) from None
        self._wake()

    def feed_eof(self):
        self._reader.feed_eof()
        self._wake()

    def at_eof(self):
        """Return True if the buffer is empty and end of file was received."""
        return self._reader.at_eof()

    async def readline(self):
        """Read one line ending in `b'\\n'`; at end of file the partial last
        line, then `b''`. A line longer than the limit is discarded and
        `ValueError` raised."""
        return await self._read("readline", self._reader.readline, readline=True)

    async def readuntil(self, separator=b"\n"):
        """Read up to and including `separator` (or, with a tuple, the first
        separator to end in the stream)."""
        if isinstance(separator, tuple):
            separators = [bytes(s) for s in separator]
            if not separators:
                raise ValueError("Separator should contain at least one element")
        else:
            separators = [bytes(separator)]
        if any(len(s) == 0 for s in separators):
            raise ValueError("Separator should be at least one-byte string")
        return await self._read("readuntil", self._reader.readuntil, separators)

    async def read(self, n=-1):
        """Read up to `n` bytes, or until end of file when `n` < 0."""
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        return await self._read("read", self._reader.read, n)

    async def readexactly(self, n):
        """Read exactly `n` bytes; `IncompleteReadError` at end of file."""
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        return await self._read("readexactly", self._reader.readexactly, n)

    def __aiter__(self):
        return self

    async def __anext__(self):
        line = await self.readline()
        if line == b"":
            raise StopAsyncIteration
        return line


def _ip_address(address):
    """A WIT `ip-socket-address` as Python's `(host, port[, flow, scope])`."""
    value = address.value
    if len(value.address) == 4:
        return (".".join(str(part) for part in value.address), value.port)
    number = 0
    for part in value.address:
        number = (number << 16) | part
    host = str(ipaddress.IPv6Address(number))
    return (host, value.port, value.flow_info, value.scope_id)


def _socket_address(address):
    types = _wit.interface("types")
    if isinstance(address, types.SocketAddress_Unix):
        return address.value
    return _ip_address(address.value)


def _family(family):
    types = _wit.interface("types")
    return {
        types.AddressFamily.IPV4: socket.AF_INET,
        types.AddressFamily.IPV6: socket.AF_INET6,
        types.AddressFamily.UNIX: getattr(socket, "AF_UNIX", 1),
    }[family]


class _Transport:
    """What `StreamWriter.transport` offers: asyncio's transport methods
    for the connection."""

    def __init__(self, writer):
        self._writer = writer

    def __getattr__(self, name):
        if name in (
            "write",
            "writelines",
            "write_eof",
            "can_write_eof",
            "close",
            "abort",
            "is_closing",
            "get_extra_info",
            "get_write_buffer_size",
            "get_write_buffer_limits",
            "set_write_buffer_limits",
        ):
            return getattr(self._writer, name)
        raise AttributeError(name)

    def is_reading(self):
        return not self._writer.is_closing()

    def __repr__(self):
        return f"<wasio transport of {self._writer!r}>"


# Where an end of file asked for by `write_eof` stands (`StreamWriter._eof`):
# asked; waiting, the buffer sent, for the socket to take the last bytes;
# free to go (wasio sends it at the next call that sends).
_EOF_ASKED = "asked"
_EOF_LAST_BYTES = "last bytes"
_EOF_FREE = "free"


class StreamWriter:
    """asyncio's `StreamWriter`: `write` buffers, `drain` waits for room,
    `close` and `wait_closed` end the connection. Also an async context
    manager that closes it on exit."""

    def __init__(self, resource, reader, loop=None):
        self._writer = resource
        self._reader = reader
        self._loop = loop
        self._closed = False
        # where the end of file asked for by `write_eof` stands
        self._eof = None
        self._extra = None

    def __repr__(self):
        info = ["StreamWriter"]
        peer = self.get_extra_info("peername")
        if peer is not None:
            info.append(f"peer={peer!r}")
        if self._closed:
            info.append("closing")
        return "<{}>".format(" ".join(info))

    def _sending(self):
        """Have wasio send what it can of this writer now; the pollable to
        wait on while bytes or an end of file are still to go, else None
        (called by the event loop before it waits)."""
        Err = _wit.err_class()
        if self._closed:
            # Done once the socket is released (or the connection lost).
            try:
                self._writer.wait_closed()
                return None
            except Err as err:
                if not _errors.is_would_block(err.value):
                    return None
            return self._writer.subscribe()
        # A non-blocking drain sends what the socket takes, and the end of
        # file once it may go; below the high-water mark it answers at
        # once, without a turn of wasio's event loop.
        try:
            self._writer.drain()
        except Err:
            pass
        if self._writer.get_write_buffer_size():
            # the socket's output pollable while bytes wait to go out
            return self._writer.subscribe()
        if self._eof is _EOF_ASKED:
            # The end of file waits for the last bytes to leave, which may
            # still be under way once the buffer is empty: `subscribe` then
            # answers the socket's output pollable, else one ready at once.
            # As nothing tells the two apart, the writer is watched until
            # that pollable is ready (`_output_ready`).
            self._eof = _EOF_LAST_BYTES
        if self._eof is _EOF_LAST_BYTES:
            return self._writer.subscribe()
        return None

    def _output_ready(self):
        """The pollable `_sending` returned was ready: an end of file that
        waited for the last bytes goes with the next `drain`."""
        if self._eof is _EOF_LAST_BYTES:
            self._eof = _EOF_FREE

    @property
    def transport(self):
        return _Transport(self)

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                "data argument must be a bytes-like object, "
                f"not {type(data).__name__!r}"
            )
        if not data:
            return
        Err = _wit.err_class()
        try:
            self._writer.write(bytes(data))
        except Err as err:
            if _errors.is_invalid_state(err.value):
                raise RuntimeError("Cannot call write() after write_eof()") from None
            # As asyncio's transport: writes after the connection is lost
            # or closed are dropped; `drain` reports the error.
            return
        _loop.sending(self)

    def writelines(self, data):
        self.write(b"".join(data))

    def write_eof(self):
        Err = _wit.err_class()
        try:
            self._writer.write_eof()
        except Err as err:
            if _errors.is_closed(err.value):
                return
            raise _errors.to_exception(err.value) from None
        self._eof = _EOF_ASKED
        _loop.sending(self)

    def can_write_eof(self):
        return self._writer.can_write_eof()

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        _loop.sending(self)
        _loop.changed()

    def abort(self):
        self._closed = True
        _loop.forget(self)
        self._writer.abort()
        _loop.changed()

    def is_closing(self):
        return self._closed or self._writer.is_closing()

    async def wait_closed(self):
        """Wait until the connection is closed (or lost: then its error)."""
        Err = _wit.err_class()
        while True:
            try:
                self._writer.wait_closed()
                return
            except Err as err:
                error = err.value
            if not _errors.is_would_block(error):
                raise _errors.to_exception(error)
            if self._closed:
                # What is left to send goes as the socket takes it.
                await _loop.wait(self._writer.subscribe)
            else:
                # Nothing but `close` or the connection's loss (which wasio
                # notices as it reads ahead) ends the wait: no pollable
                # stands for either.
                await _loop.recheck()

    def get_extra_info(self, name, default=None):
        if self._extra is None:
            info = self._writer.get_extra_info()
            family = _family(info.family)
            self._extra = {
                "peername": _socket_address(info.peername)
                if info.peername is not None
                else None,
                "sockname": _socket_address(info.sockname)
                if info.sockname is not None
                else None,
                "family": family,
            }
        value = self._extra.get(name)
        return default if value is None else value

    def get_write_buffer_size(self):
        return self._writer.get_write_buffer_size()

    def get_write_buffer_limits(self):
        return self._writer.get_write_buffer_limits()

    def set_write_buffer_limits(self, high=None, low=None):
        # asyncio's defaults and its check (wasio cannot take a negative)
        if high is None:
            high = 4 * low if low is not None else _DEFAULT_LIMIT
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        _call(self._writer.set_write_buffer_limits, high, low)

    async def drain(self):
        """Wait until the write buffer is at or below the low-water mark
        once it went above the high-water mark (at once otherwise)."""
        if self._reader is not None and self._reader._exception is not None:
            raise self._reader._exception
        if self._closed:
            # asyncio: let the closed transport's connection_lost run.
            await asyncio.sleep(0)
        Err = _wit.err_class()
        while True:
            # wasio's drain is asyncio's: the reader's exception, the
            # connection's loss, the water marks. It sends what the socket
            # takes.
            try:
                self._writer.drain()
                return
            except Err as err:
                error = err.value
            if not _errors.is_would_block(error):
                if self._closed and isinstance(
                    error, _wit.interface("types").Error_ConnectionReset
                ):
                    # wasio's answer once the closed socket is released
                    raise ConnectionResetError("Connection lost")
                raise _errors.to_exception(error)
            await _loop.wait(self._writer.subscribe)

    async def start_tls(self, *args, **kwargs):
        raise NotImplementedError("TLS is not available in wasio's streams")

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()
        try:
            await self.wait_closed()
        except (ConnectionError, OSError):
            pass


class _ServerSocket:
    """What `Server.sockets` lists: enough of a socket to ask its address."""

    def __init__(self, address):
        self._address = address

    @property
    def family(self):
        if isinstance(self._address, str):
            return getattr(socket, "AF_UNIX", 1)
        return socket.AF_INET6 if len(self._address) == 4 else socket.AF_INET

    @property
    def type(self):
        return socket.SOCK_STREAM

    def getsockname(self):
        return self._address

    def __repr__(self):
        return f"<wasio server socket {self._address!r}>"


class Server:
    """asyncio's `Server`: accepts clients and runs `client_connected_cb`
    for each; `close`, `wait_closed`, `serve_forever`, `async with`."""

    def __init__(self, resources, client_connected_cb, limit, loop):
        self._resources = resources
        self._callback = client_connected_cb
        self._limit = limit
        self._loop = loop
        self._accepting = []
        self._closed = False
        self._closing = loop.create_future()
        # every accepted client's writer, for close_clients, abort_clients
        # and wait_closed
        self._writers = weakref.WeakSet()
        self._serving_forever = None

    def __repr__(self):
        return f"<Server sockets={self.sockets!r}>"

    def get_loop(self):
        return self._loop

    @property
    def sockets(self):
        if self._closed:
            return ()
        addresses = []
        for resource in self._resources:
            addresses.extend(resource.sockets())
        return tuple(_ServerSocket(_socket_address(a)) for a in addresses)

    def is_serving(self):
        return bool(self._accepting) and not self._closed

    async def start_serving(self):
        if self._closed:
            raise RuntimeError(f"server {self!r} is closed")
        if not self._accepting:
            for resource in self._resources:
                self._accepting.append(
                    self._loop.create_task(self._accept_loop(resource))
                )
        await asyncio.sleep(0)

    async def _accept_loop(self, resource):
        Err = _wit.err_class()
        while not self._closed:
            try:
                reader, writer = resource.accept()
            except Err as err:
                error = err.value
                if _errors.is_closed(error):
                    return
                if _errors.is_would_block(error):
                    await _loop.wait(resource.subscribe)
                    continue
                self._loop.call_exception_handler(
                    {
                        "message": "accepting a connection failed",
                        "exception": _errors.to_exception(error),
                    }
                )
                await asyncio.sleep(ACCEPT_RETRY_DELAY)
                continue
            self._client_connected(reader, writer)

    def _client_connected(self, reader_resource, writer_resource):
        reader = StreamReader(self._limit, _resource=reader_resource)
        writer = StreamWriter(writer_resource, reader, self._loop)
        self._writers.add(writer)
        result = self._callback(reader, writer)
        if asyncio.iscoroutine(result):
            task = self._loop.create_task(result)

            def done(task):
                if task.cancelled():
                    writer.close()
                    return
                exc = task.exception()
                if exc is not None:
                    self._loop.call_exception_handler(
                        {
                            "message": "Unhandled exception in client_connected_cb",
                            "exception": exc,
                            "transport": writer.transport,
                        }
                    )
                    writer.close()

            task.add_done_callback(done)

    def close(self):
        """Stop listening at once; the connections accepted go on."""
        if self._closed:
            return
        self._closed = True
        for task in self._accepting:
            task.cancel()
        self._accepting = []
        # Dropping a server is what lets wasio close listening sockets
        # whose pollables it handed out (no pollable outlives a poll).
        for resource in self._resources:
            resource.close()
            resource.__exit__(None, None, None)
        self._resources = []
        self._closing.set_result(None)
        if self._serving_forever is not None and not self._serving_forever.done():
            self._serving_forever.cancel()

    def close_clients(self):
        for writer in list(self._writers):
            writer.close()

    def abort_clients(self):
        for writer in list(self._writers):
            writer.abort()

    async def wait_closed(self):
        """Wait until the server is closed and its connections are."""
        await asyncio.shield(self._closing)
        for writer in list(self._writers):
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def serve_forever(self):
        if self._serving_forever is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if self._closed:
            raise RuntimeError(f"server {self!r} is closed")
        await self.start_serving()
        self._serving_forever = self._loop.create_future()
        try:
            await self._serving_forever
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()


def _connect_options(types, limit, family=0, local_addr=None, **ignored):
    if limit <= 0:
        raise ValueError("Limit cannot be <= 0")
    return types.ConnectOptions(
        limit=limit,
        write_high_water=None,
        write_low_water=None,
        timeout=None,
        family=_wit_family(types, family),
        local_address=_local_address(types, local_addr),
        keep_alive=None,
        receive_buffer_size=None,
        send_buffer_size=None,
        hop_limit=None,
    )


def _wit_family(types, family):
    if not family:
        return None
    if family == socket.AF_INET:
        return types.AddressFamily.IPV4
    if family == socket.AF_INET6:
        return types.AddressFamily.IPV6
    raise ValueError(f"unsupported address family {family!r}")


def _local_address(types, local_addr):
    if local_addr is None:
        return None
    host, port = local_addr[0], local_addr[1]
    network = types.network
    address = ipaddress.ip_address(host or "0.0.0.0")
    if address.version == 4:
        return network.IpSocketAddress_Ipv4(
            network.Ipv4SocketAddress(port=port, address=tuple(address.packed))
        )
    words = address.packed
    parts = tuple(int.from_bytes(words[i : i + 2], "big") for i in range(0, 16, 2))
    return network.IpSocketAddress_Ipv6(
        network.Ipv6SocketAddress(port=port, flow_info=0, address=parts, scope_id=0)
    )


def _no_tls(ssl):
    if ssl:
        raise NotImplementedError("TLS is not available in wasio's streams")


def _no_sock(sock):
    if sock is not None:
        raise ValueError("wasio's streams cannot adopt a socket object (sock=)")


async def open_connection(host=None, port=None, *, limit=_DEFAULT_LIMIT, **kwds):
    """asyncio's `open_connection`: connect over TCP; a (reader, writer)."""
    _no_tls(kwds.get("ssl"))
    _no_sock(kwds.get("sock"))
    if host is None or port is None:
        raise ValueError("host and port must be given (sock= is not supported)")
    types = _wit.interface("types")
    tcp = _wit.interface("tcp")
    options = _connect_options(
        types, limit, kwds.get("family", 0), kwds.get("local_addr")
    )
    connecting = _call(tcp.open_connection, str(host), int(port), options)
    Err = _wit.err_class()
    try:
        while True:
            try:
                reader, writer = connecting.finish()
                break
            except Err as err:
                if not _errors.is_would_block(err.value):
                    raise _errors.to_exception(err.value) from None
            await _loop.wait(connecting.subscribe)
    finally:
        connecting.__exit__(None, None, None)
    return _pair(reader, writer, limit)


def _pair(reader_resource, writer_resource, limit):
    loop = asyncio.get_running_loop()
    reader = StreamReader(limit, _resource=reader_resource)
    return reader, StreamWriter(writer_resource, reader, loop)


def _server_options(types, limit, backlog, family=0):
    if limit <= 0:
        raise ValueError("Limit cannot be <= 0")
    return types.ServerOptions(
        limit=limit,
        write_high_water=None,
        write_low_water=None,
        backlog=backlog,
        family=_wit_family(types, family),
        keep_alive=None,
        receive_buffer_size=None,
        send_buffer_size=None,
        hop_limit=None,
    )


async def start_server(
    client_connected_cb,
    host=None,
    port=None,
    *,
    limit=_DEFAULT_LIMIT,
    family=0,
    flags=None,
    sock=None,
    backlog=100,
    ssl=None,
    reuse_address=None,
    reuse_port=None,
    keep_alive=None,
    ssl_handshake_timeout=None,
    ssl_shutdown_timeout=None,
    start_serving=True,
):
    """asyncio's `start_server`: listen over TCP and call
    `client_connected_cb(reader, writer)` for every client (a coroutine
    function runs as a task)."""
    _no_tls(ssl)
    _no_sock(sock)
    types = _wit.interface("types")
    tcp = _wit.interface("tcp")
    options = _server_options(types, limit, backlog, family)
    if isinstance(host, (str, type(None))):
        hosts = [host]
    else:
        hosts = list(host)
    port = 0 if port is None else int(port)
    resources = []
    try:
        for one in hosts:
            resources.append(_call(tcp.start_server, one, port, options))
    except BaseException:
        for resource in resources:
            resource.close()
        raise
    server = Server(resources, client_connected_cb, limit, asyncio.get_running_loop())
    if start_serving:
        await server.start_serving()
    return server


def _unix_streams():
    try:
        return _wit.interface("unix_streams")
    except ImportError:
        raise NotImplementedError(
            "Unix sockets need a component that imports "
            "wasio:streams/unix-streams (world wasio:python/asyncio-unix), "
            "plugged with dist/wasio.wasm and run by the wasio host"
        ) from None


def _path(path):
    if path is None:
        raise ValueError("path was not specified, and no sock specified")
    if isinstance(path, bytes):
        return path.decode(sys.getfilesystemencoding())
    return str(path)


async def open_unix_connection(path=None, *, limit=_DEFAULT_LIMIT, **kwds):
    """asyncio's `open_unix_connection`; needs the wasio host."""
    _no_tls(kwds.get("ssl"))
    _no_sock(kwds.get("sock"))
    unix = _unix_streams()
    types = _wit.interface("types")
    options = _connect_options(types, limit)
    reader, writer = _call(unix.open_unix_connection, _path(path), options)
    return _pair(reader, writer, limit)


async def start_unix_server(
    client_connected_cb,
    path=None,
    *,
    limit=_DEFAULT_LIMIT,
    sock=None,
    backlog=100,
    ssl=None,
    ssl_handshake_timeout=None,
    ssl_shutdown_timeout=None,
    start_serving=True,
    cleanup_socket=True,
):
    """asyncio's `start_unix_server`; needs the wasio host."""
    _no_tls(ssl)
    _no_sock(sock)
    unix = _unix_streams()
    types = _wit.interface("types")
    options = _server_options(types, limit, backlog)
    resource = _call(unix.start_unix_server, _path(path), options)
    server = Server([resource], client_connected_cb, limit, asyncio.get_running_loop())
    if start_serving:
        await server.start_serving()
    return server

"""The benchmark protocol on CPython asyncio streams.

    python3 server.py [--listen HOST:PORT] [--unix PATH] [--nodelay] [--startup]

Prints ``listening on ADDR`` for each address and serves until standard
input ends. Each connection starts with a mode line: ``echo`` (readline,
write, drain for every line), ``frames`` (readexactly of u32 big-endian
length-prefixed frames until a zero length; answers the payload byte
count), ``sink`` (read(65536) until end of file; answers the byte count)
or ``source N`` (N bytes written in 64 KiB pieces, drain after each).

asyncio turns TCP_NODELAY on for every TCP connection; without
``--nodelay`` it is turned off again, as on the other subjects (WASI 0.2
cannot set it and wasmtime-wasi leaves it off).

The same file runs inside the Python component (`dist/python-asyncio.wasm
server ...`, the `python component` subject), on wasio's streams; there
it serves until it is stopped (no thread can wait for standard input).
"""

import asyncio
import sys

try:
    import socket
except ImportError:  # a component's Python may lack it
    socket = None

BACKLOG = 1024
PIECE = 64 * 1024


async def serve_one(reader, writer):
    mode = await reader.readline()
    if mode == b"echo\n":
        while True:
            line = await reader.readline()
            if not line:
                return
            writer.write(line)
            await writer.drain()
    elif mode == b"frames\n":
        total = 0
        while True:
            header = await reader.readexactly(4)
            length = int.from_bytes(header, "big")
            if length == 0:
                break
            total += len(await reader.readexactly(length))
        writer.write(b"%d\n" % total)
    elif mode == b"sink\n":
        total = 0
        while True:
            chunk = await reader.read(PIECE)
            if not chunk:
                break
            total += len(chunk)
        writer.write(b"%d\n" % total)
    elif mode.startswith(b"source "):
        count = int(mode[7:])
        piece = b"x" * PIECE
        sent = 0
        while sent < count:
            n = min(PIECE, count - sent)
            writer.write(piece[:n])
            await writer.drain()
            sent += n


def handler(nodelay):
    async def client(reader, writer):
        sock = writer.get_extra_info("socket")
        if socket is not None and sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if nodelay else 0)
        try:
            await serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            print(f"server.py: {error!r}", file=sys.stderr)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    return client


async def stdin_closed():
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.buffer.read)
    except NotImplementedError:
        # In a component no thread can wait: serve until stopped.
        await asyncio.Event().wait()


async def main(argv):
    listen, unix, nodelay, startup = None, None, False, False
    args = iter(argv)
    for flag in args:
        if flag == "--listen":
            listen = next(args)
        elif flag == "--unix":
            unix = next(args)
        elif flag == "--nodelay":
            nodelay = True
        elif flag == "--startup":
            startup = True
        else:
            raise SystemExit(f"server.py: unknown argument {flag!r}")
    client = handler(nodelay)
    servers = []
    if listen is not None:
        host, port = listen.rsplit(":", 1)
        servers.append(await asyncio.start_server(client, host, int(port), backlog=BACKLOG))
    if unix is not None:
        servers.append(await asyncio.start_unix_server(client, unix, backlog=BACKLOG))
    if startup:
        return
    for server in servers:
        for sock in server.sockets:
            name = sock.getsockname()
            address = name if isinstance(name, str) else f"{name[0]}:{name[1]}"
            print(f"listening on {address}", flush=True)
    await stdin_closed()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

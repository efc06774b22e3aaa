"""A session with a line-echo server, over wasio's WASI 0.3 contract.

    COMPONENT echo_client_p3 HOST PORT     (dist/python-asyncio-p3.wasm)
    python3 echo_client_p3.py HOST PORT    (CPython's own asyncio)

Inside a component of the world `wasio:python/asyncio-p3` each call is one
of `wasio:streams@0.2.0`'s async funcs, awaited directly (`wasio.p3`);
under CPython the same code runs on asyncio's streams and prints the same
lines, one per step: `readline`, `readuntil`, `readexactly`, an
over-long line refused with `LimitOverrunError`, a read and a send
waiting at once (`asyncio.gather`), `write_eof`, `read(-1)`, end of file
as `IncompleteReadError`, `close` and `wait_closed`. A connection that
fails is reported in one line on stderr, with exit status 1.
"""

import asyncio
import sys

try:  # a component of the asyncio-p3 world
    from wasio.p3 import open_connection
except ImportError:  # CPython
    from asyncio import open_connection


def show(step, data):
    print(f"{step}: {data!r}")


async def send(writer, data):
    writer.write(data)
    await writer.drain()


async def session(reader, writer):
    writer.write(b"first line\nsecond line\n")
    await writer.drain()
    show("readline", await reader.readline())
    show("readline", await reader.readline())

    writer.write(b"key=value;1234")
    writer.write(b"5678\n")
    await writer.drain()
    show("readuntil", await reader.readuntil(b"="))
    show("readuntil", await reader.readuntil(b";"))
    show("readexactly", await reader.readexactly(4))
    show("readline", await reader.readline())

    # Longer than the limit (64): refused, and the bytes stay buffered.
    writer.write(b"x" * 200 + b"\nafter\n")
    await writer.drain()
    try:
        await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as error:
        print(f"readuntil: LimitOverrunError, consumed {error.consumed}")
        skipped = await reader.readexactly(error.consumed + 1)
        print(f"readexactly: skipped {len(skipped)} bytes")
    show("readline", await reader.readline())

    # Two calls waiting at once: the read waits before the line is sent.
    line, _ = await asyncio.gather(reader.readline(), send(writer, b"together\n"))
    show("gather(readline, drain)", line)

    writer.write(b"last words\n")
    writer.write_eof()
    show("read(-1)", await reader.read(-1))
    print(f"at_eof: {reader.at_eof()}")
    try:
        await reader.readexactly(4)
    except asyncio.IncompleteReadError as error:
        print(
            f"readexactly: IncompleteReadError, partial {error.partial!r}, "
            f"expected {error.expected}"
        )

    writer.close()
    await writer.wait_closed()
    print("closed")


async def main(argv):
    if len(argv) != 2:
        print("usage: echo_client_p3 HOST PORT", file=sys.stderr)
        return 2
    host, port = argv[0], int(argv[1])
    try:
        reader, writer = await open_connection(host, port, limit=64)
    except OSError as error:
        print(
            f"echo_client_p3: cannot connect to {host}:{port}: "
            f"{type(error).__name__}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    try:
        await session(reader, writer)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        print(f"echo_client_p3: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

"""A line-echo client written against stock asyncio only.

It runs unchanged under CPython and inside a component built with
componentize-py and wasio. It opens `--clients` connections at once; each
sends `--lines` lines of seeded random lengths (up to 60,000 bytes, under
asyncio's 64 KiB line limit) from one task while another reads the echo
back with `readline`, `readuntil` and `readexactly` in turn and checks
every byte; then it half-closes and expects end of file.

    echo_client.py HOST PORT [--clients N] [--lines N] [--max-size N] [--together] [--quit]
    echo_client.py --unix PATH [...]

`--max-size` leaves out the line sizes above N bytes. With `--together`
every client connects before any sends, so that all `--clients`
connections are open at once.

Prints `ok: N clients, N lines, N bytes` and exits 0 when every line came
back intact; exits 1 with the first difference otherwise. `--quit` sends
`QUIT` on one more connection at the end, which stops echo_server.py.
"""

import argparse
import asyncio
import random
import sys

SIZES = (0, 1, 7, 64, 100, 1000, 4096, 20000, 60000)


def make_lines(seed, count, max_size):
    rng = random.Random(seed)
    sizes = [size for size in SIZES if size <= max_size]
    lines = []
    for index in range(count):
        size = rng.choice(sizes)
        byte = b"%c" % (ord("a") + index % 26)
        lines.append(f"{seed}:{index}:".encode() + byte * size + b"\n")
    return lines


async def connect(args):
    if args.unix is not None:
        return await asyncio.open_unix_connection(args.unix)
    return await asyncio.open_connection(args.host, args.port)


async def send(writer, lines):
    for index, line in enumerate(lines):
        writer.write(line)
        if index % 4 == 3:
            await writer.drain()
    await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def receive(reader, lines):
    for index, line in enumerate(lines):
        way = index % 3
        if way == 0:
            got = await reader.readline()
        elif way == 1:
            got = await reader.readuntil(b"\n")
        else:
            got = await reader.readexactly(len(line))
        if got != line:
            raise AssertionError(
                f"line {index}: sent {len(line)} bytes {line[:40]!r}..., "
                f"got {len(got)} bytes {got[:40]!r}..."
            )
    rest = await reader.read()
    if rest != b"":
        raise AssertionError(f"expected end of file, got {rest[:40]!r}")


async def client(args, number, everyone=None):
    lines = make_lines(args.seed + number, args.lines, args.max_size)
    reader, writer = await connect(args)
    try:
        if everyone is not None:
            await everyone.connected()
        await asyncio.gather(send(writer, lines), receive(reader, lines))
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
    return len(lines), sum(len(line) for line in lines)


class Everyone:
    """A barrier: `connected()` returns once `count` clients have called it."""

    def __init__(self, count):
        self.left = count
        self.all_in = asyncio.Event()

    async def connected(self):
        self.left -= 1
        if self.left == 0:
            self.all_in.set()
        await self.all_in.wait()


async def quit_server(args):
    reader, writer = await connect(args)
    writer.write(b"QUIT\n")
    await writer.drain()
    reply = await reader.readline()
    writer.close()
    await writer.wait_closed()
    if reply != b"BYE\n":
        raise AssertionError(f"QUIT answered {reply!r}")


async def main(argv):
    parser = argparse.ArgumentParser(description="asyncio line-echo client")
    parser.add_argument("host", nargs="?")
    parser.add_argument("port", nargs="?", type=int)
    parser.add_argument("--unix", metavar="PATH")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-size", type=int, default=max(SIZES))
    parser.add_argument("--together", action="store_true")
    parser.add_argument("--quit", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    if args.unix is None and (args.host is None or args.port is None):
        parser.error("give HOST PORT or --unix PATH")

    everyone = Everyone(args.clients) if args.together else None
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(client(args, n, everyone) for n in range(args.clients))),
            args.timeout,
        )
        if args.quit:
            await asyncio.wait_for(quit_server(args), args.timeout)
    except (AssertionError, OSError, asyncio.IncompleteReadError, TimeoutError) as error:
        print(f"failed: {error!r}", flush=True)
        return 1
    lines = sum(count for count, _ in results)
    size = sum(size for _, size in results)
    print(f"ok: {len(results)} clients, {lines} lines, {size} bytes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

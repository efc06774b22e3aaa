"""A line-echo server written against stock asyncio only.

It runs unchanged under CPython (`python3 echo_server.py --port 8000`)
and inside a component built with componentize-py and wasio, where
`wasio.install()` makes `asyncio.start_server` and friends wasio's.

Each client's lines come back as sent. A client that sends `QUIT` gets
`BYE` and stops the server, which then prints how many clients it
served and exits.

    echo_server.py [--host HOST] [--port PORT] [--unix PATH] [--backlog N]

`--backlog` is `start_server`'s (asyncio's default, 100, unless given):
raise it for a thousand clients connecting at once.
"""

import argparse
import asyncio
import sys


def address(sockname):
    if isinstance(sockname, str):
        return sockname
    host, port = sockname[0], sockname[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class EchoServer:
    def __init__(self):
        self.stop = asyncio.Event()
        self.clients = 0
        self.lines = 0

    async def handle(self, reader, writer):
        self.clients += 1
        try:
            async for line in reader:
                if line == b"QUIT\n":
                    writer.write(b"BYE\n")
                    self.stop.set()
                    break
                writer.write(line)
                self.lines += 1
                await writer.drain()
        except (ConnectionError, ValueError) as error:
            print(f"client: {error!r}", file=sys.stderr)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


async def main(argv):
    parser = argparse.ArgumentParser(description="asyncio line-echo server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--unix", metavar="PATH")
    parser.add_argument("--backlog", type=int, default=100)
    args = parser.parse_args(argv)
    if args.port is None and args.unix is None:
        args.port = 0

    echo = EchoServer()
    servers = []
    if args.port is not None:
        servers.append(await asyncio.start_server(
            echo.handle, args.host, args.port, backlog=args.backlog))
    if args.unix is not None:
        servers.append(await asyncio.start_unix_server(
            echo.handle, args.unix, backlog=args.backlog))
    for server in servers:
        for sock in server.sockets:
            print(f"listening on {address(sock.getsockname())}", flush=True)

    await echo.stop.wait()
    for server in servers:
        server.close()
    for server in servers:
        await asyncio.wait_for(server.wait_closed(), 30)
    print(f"served {echo.clients} clients, {echo.lines} lines", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

"""Python on wasio next to CPython: component sizes, start-up time and the
line-echo rate of python/examples/echo_server.py, run by native CPython,
inside dist/python-asyncio.wasm under the stock wasmtime CLI, and inside
dist/python-asyncio-unix.wasm under `wasio run`. A benchmark, not a test:
it prints figures and asserts nothing but the echoed bytes.

    python3 scripts/bench-python.py [--lines N] [--rounds N]   (after make build)

The load: one native client pipelines N 64-byte lines (from one task,
reading the echo back from another) over one connection, then 50
clients at once do the same with N/50 lines each.
"""

import argparse
import asyncio
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASMTIME = os.path.join(ROOT, ".tools/bin/wasmtime")
WASIO = os.path.join(ROOT, "target/debug/wasio")
SERVER = os.path.join(ROOT, "python/examples/echo_server.py")
LINE = b"x" * 63 + b"\n"


def subjects():
    tcp = os.path.join(ROOT, "dist/python-asyncio.wasm")
    unix = os.path.join(ROOT, "dist/python-asyncio-unix.wasm")
    found = {}
    for name in ("python3.11", "python3.13"):
        # pyenv's shims answer for versions that are not selected: ask
        # each candidate to run.
        candidates = [shutil.which(name) or name]
        candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/*/bin/{name}")))
        for path in candidates:
            if subprocess.run([path, "-c", ""], capture_output=True).returncode == 0:
                found[f"CPython {name[6:]}"] = [path, SERVER]
                break
    found["component, wasmtime CLI"] = [WASMTIME, "run", "-S", "inherit-network", tcp, "echo_server"]
    found["component, wasio run"] = [
        WASIO, "run", "--allow-listen", "127.0.0.1:*", "--max-memory", "1G", unix, "echo_server",
    ]
    return found


async def pipeline(port, lines):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send():
        batch = LINE * 1000
        for _ in range(lines // 1000):
            writer.write(batch)
            await writer.drain()

    sending = asyncio.ensure_future(send())
    data = await reader.readexactly(len(LINE) * (lines // 1000) * 1000)
    await sending
    assert data == LINE * (len(data) // len(LINE))
    writer.close()
    await writer.wait_closed()


async def rate(port, lines, clients):
    start = time.perf_counter()
    await asyncio.gather(*(pipeline(port, lines // clients) for _ in range(clients)))
    return lines / (time.perf_counter() - start)


async def quit_server(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"QUIT\n")
    await reader.readline()
    writer.close()


def start_server(command):
    process = subprocess.Popen(
        command + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = process.stdout.readline()
    return process, int(line.rsplit(":", 1)[1])


def startup(command, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command + ["--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    print("component sizes:")
    for name in ("wasio-tcp.wasm", "wasio.wasm", "python-asyncio.wasm", "python-asyncio-unix.wasm"):
        path = os.path.join(ROOT, "dist", name)
        print(f"  {name:28} {os.path.getsize(path):>11,} bytes")
    unplugged = os.path.join(ROOT, "target/python-components/python-asyncio.wasm.unplugged")
    if os.path.exists(unplugged):
        print(f"  {'(python-asyncio, unplugged)':28} {os.path.getsize(unplugged):>11,} bytes")

    results = {}
    for name, command in subjects().items():
        # One run first: the runtimes compile the component once, then cache it.
        subprocess.run(command + ["--help"], capture_output=True, check=True)
        begin = startup(command, args.rounds)
        one, fifty = [], []
        for _ in range(args.rounds):
            process, port = start_server(command)
            try:
                one.append(asyncio.run(rate(port, args.lines, 1)))
                fifty.append(asyncio.run(rate(port, args.lines, 50)))
                asyncio.run(quit_server(port))
                process.wait(timeout=60)
            finally:
                process.kill()
        results[name] = (begin, statistics.median(one), statistics.median(fifty))

    base = results.get("CPython 3.11") or next(iter(results.values()))
    print(f"\nline echo, 64-byte lines pipelined ({args.lines:,} lines, median of {args.rounds}):")
    print(f"  {'server':26} {'start-up':>10} {'1 client':>14} {'50 clients':>14} {'÷ CPython 3.11':>16}")
    for name, (begin, one, fifty) in results.items():
        print(
            f"  {name:26} {begin * 1000:>8.0f} ms {one:>10,.0f} l/s {fifty:>10,.0f} l/s"
            f" {one / base[1]:>7.2f} / {fifty / base[2]:.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())

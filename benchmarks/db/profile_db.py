"""Where a database request's time goes: drive one app in-process, optionally under cProfile.

``python benchmarks/db/profile_db.py plait /db`` (peers venv's Python) imports the app module, runs its
lifespan, then sends ``--requests`` ASGI requests, ``--concurrency`` at a time, straight to the app
(no server, no sockets: only the framework, the ORM and the driver are left), and prints the CPU time
per request. ``--profile`` adds cProfile and prints the functions with the most cumulative and own time,
grouped by package with ``--by-package``. ``BENCH_DB=sqlite`` as for the apps. ``profile_db.py --calls-table``
prints the Python calls per request of every stack, test and backend (deterministic, so unaffected by
whatever else the machine is doing).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

DB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DB_DIR))
MODULES = {
    "raw": "raw_app",
    "raw-sqlite": "raw_sqlite_app",
    "plait": "plait_app",
    "fastapi": "fastapi_app",
    "litestar": "litestar_app",
    "django": "django_app",
}


async def lifespan(app: Any, message_type: str, state: dict[str, Any]) -> None:
    """One lifespan event; the lifespan task stays alive between startup and shutdown."""
    if message_type == "lifespan.startup":
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        done: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
        state["_task"] = asyncio.ensure_future(app(scope, inbox.get, done.put))
        state["_inbox"], state["_done"] = inbox, done
        reply = await asyncio.wait_for(done.get(), 30)
        if reply["type"] != "lifespan.startup.complete":
            raise SystemExit(f"lifespan startup failed: {reply}")
        return
    state["_inbox"].put_nowait({"type": "lifespan.shutdown"})
    await asyncio.wait_for(state["_task"], 30)


async def request(app: Any, path: str, state: dict[str, Any]) -> int:
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "state": {k: v for k, v in state.items() if not k.startswith("_")},
    }  # fmt: skip
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200 and not FAILURES:
        FAILURES.append(f"{status}: {bytes(body[:400])!r}")
    return status


async def drive(app: Any, path: str, count: int, concurrency: int) -> list[int]:
    statuses: list[int] = []
    left = iter(range(count))

    async def worker() -> None:
        for _ in left:
            statuses.append(await request(app, path, STATE))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


STATE: dict[str, Any] = {}
FAILURES: list[str] = []  # the first answer that was not a 200, to print


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time per package (sqlalchemy, asyncpg, plait, ...): who burns the CPU."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/src/plait/" in filename:
            package = "plait/" + filename.split("/src/plait/")[1].split("/")[0].removesuffix(".py")
        elif filename.startswith("~") or filename.startswith("<"):
            package = "builtins (C)"
        elif "/benchmarks/db/" in filename:
            package = "app code"
        else:
            package = "stdlib"
        totals[package] += own
    return sorted(totals.items(), key=lambda item: -item[1])


def calls_table() -> None:
    """A markdown table of Python calls per request: every stack, test and backend, each in a fresh process."""
    import re
    import subprocess

    tests = {"/db": 300, "/queries?queries=20": 60, "/fortunes": 300, "/updates?queries=20": 60}
    for backend in ("postgres", "sqlite"):
        # Not Django: its ORM runs in threads of asgiref's, which cProfile (this thread only) does not see.
        stacks = ["raw" if backend == "postgres" else "raw-sqlite", "plait", "fastapi", "litestar"]
        print(f"\n{backend}\n\n| test | " + " | ".join(stacks) + " |\n| --- |" + " ---: |" * len(stacks))
        for path, count in tests.items():
            cells = []
            for stack in stacks:
                argv = [sys.executable, __file__, stack, path, "--requests", str(count), "--profile", "--by-package"]
                env = {**os.environ, "BENCH_DB": backend}
                out = subprocess.run([*argv, "--top", "0"], capture_output=True, text=True, env=env).stdout
                found = re.search(r"(\d+) Python function calls", out)
                cells.append(f"{int(found.group(1)):,}" if found else "?")
            print(f"| `{path}` | " + " | ".join(cells) + " |", flush=True)


def main(argv: list[str]) -> int:
    if argv == ["--calls-table"]:
        calls_table()
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", choices=MODULES)
    parser.add_argument("path", nargs="?", default="/db")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4)  # the pool size: no request waits
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--by-package", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", help="also write the cProfile data to this file (pstats format)")
    args = parser.parse_args(argv)
    import uvloop

    module = importlib.import_module(MODULES[args.stack])
    app = module.app

    async def run() -> None:
        await lifespan(app, "lifespan.startup", STATE)
        await drive(app, args.path, min(300, args.requests), args.concurrency)  # warm caches and the pool
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU time, not wall
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        statuses = await drive(app, args.path, args.requests, args.concurrency)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        await lifespan(app, "lifespan.shutdown", STATE)
        bad = len([s for s in statuses if s != 200])
        print(
            f"{args.stack} {os.environ.get('BENCH_DB', 'postgres')} {args.path}: {args.requests} requests, "
            f"{cpu / args.requests * 1e6:.0f} µs CPU and {wall / args.requests * 1e6:.0f} µs wall each"
            + (f", {bad} not 200, the first: {FAILURES[0]}" if bad else "")
        )
        if profiler:
            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            calls = stats.total_calls / args.requests  # type: ignore[attr-defined]
            print(f"  {calls:.0f} Python function calls per request (deterministic: a noise-free measure of work)")
            if args.by_package:
                total = sum(own for _, own in by_package(stats))
                for package, own in by_package(stats)[: args.top]:
                    print(f"  {own / total:6.1%}  {own / args.requests * 1e6:6.1f} µs/req  {package}")
            else:
                stats.sort_stats("cumulative").print_stats(args.top)
                stats.sort_stats("tottime").print_stats(args.top)

    uvloop.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

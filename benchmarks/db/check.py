"""Start each database app under granian and check every answer against the published rules.

``python benchmarks/db/check.py`` (with the peers venv's Python) seeds both databases, serves each
stack (the raw ceilings, asyncpg and aiosqlite; Plait, FastAPI, Litestar and Django on PostgreSQL
and SQLite) one at a time with
the harness's server flags, and prints one line per check. Name stacks to check only those
(``check.py raw plait``). ``--smoke`` adds one 5-second wrk run per endpoint: a smoke test that the
load works, not a measurement (no interleaving, no rounds).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import seed
import tfb

DB_DIR = Path(__file__).resolve().parent
BENCH_DIR = DB_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
from harness.servers import GRANIAN_FLAGS  # noqa: E402 - the harness's flags, so both serve alike

HOST = "127.0.0.1"
PORT = 18390  # outside the harness's ports; run.py points the checks at its servers with use_port()
PEERS = ("plait", "fastapi", "litestar", "django")
GRANIAN = BENCH_DIR / ".venv-peers" / "bin" / "granian"
LOG_DIR = BENCH_DIR / ".generated" / "logs"
# (name, granian target, backend): every stack on PostgreSQL, and on SQLite where it supports it.
STACKS = [
    ("raw", "raw_app:app", "postgres"),
    ("raw", "raw_sqlite_app:app", "sqlite"),
    *((name, f"{name}_app:app", backend) for backend in ("postgres", "sqlite") for name in PEERS),
]
SMOKE_PATHS = ["/db", "/queries?queries=20", "/fortunes", "/updates?queries=20"]
ROW = re.compile(r"<tr><td>(-?\d+)</td><td>(.*?)</td></tr>")
PAGE_HEAD = "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>"
PAGE_TAIL = "</table></body></html>"


class Failure(Exception):
    """One answer that breaks the rules."""


def use_port(port: int) -> None:
    """Send the checks' requests to ``port`` from now on."""
    global PORT
    PORT = port


def get(path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(HOST, PORT, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def worlds(path: str, count: int | None) -> list[dict[str, Any]]:
    """The JSON answer of ``path``: one world (``count`` None) or a list of ``count`` distinct ones."""
    status, content_type, body = get(path)
    expect(status == 200, f"{path}: status {status}")
    expect(content_type.startswith("application/json"), f"{path}: content type {content_type!r}")
    data = msgspec.json.decode(body)
    items = [data] if count is None else data
    expect(count is None or (isinstance(data, list) and len(data) == count), f"{path}: expected {count} worlds")
    for world in items:
        expect(isinstance(world, dict) and set(world) == {"id", "randomNumber"}, f"{path}: shape {world!r}")
        for key in ("id", "randomNumber"):
            value = world[key]
            expect(type(value) is int and 1 <= value <= tfb.WORLD_ROWS, f"{path}: {key} {value!r}")
    expect(len({world["id"] for world in items}) == len(items), f"{path}: repeated ids")
    return list(items)


def check_db() -> str:
    worlds("/db", None)
    return "/db: one object {id, randomNumber}, both ints 1..10000, application/json"


def check_queries(prefix: str = "/queries") -> str:
    cases = {"": 1, "?queries=1": 1, "?queries=7": 7, "?queries=0": 1, "?queries=-3": 1, "?queries=foo": 1}
    cases["?queries=501"] = 500
    for suffix, count in cases.items():
        worlds(prefix + suffix, count)
    return f"{prefix}: counts for missing/1/7/0/-3/foo/501 -> 1/1/7/1/1/1/500, each world well-formed, ids distinct"


def stored(backend: str, ids: list[int]) -> dict[int, int]:
    """What the database holds now for ``ids``, read outside the app."""
    if backend == "sqlite":
        with sqlite3.connect(tfb.SQLITE_PATH) as connection:
            marks = ",".join("?" * len(ids))
            sql = f"select id, randomnumber from {tfb.WORLD_TABLE} where id in ({marks})"  # noqa: S608
            return dict(connection.execute(sql, ids).fetchall())

    async def fetch() -> dict[int, int]:
        import asyncpg

        connection = await asyncpg.connect(tfb.POSTGRES_DSN, timeout=5)
        try:
            sql = f"select id, randomnumber from {tfb.WORLD_TABLE} where id = any($1)"  # noqa: S608
            return {row[0]: row[1] for row in await connection.fetch(sql, ids)}
        finally:
            await connection.close()

    return asyncio.run(fetch())


def check_updates(backend: str) -> str:
    check_queries("/updates")
    answered = worlds("/updates?queries=20", 20)
    ids = [world["id"] for world in answered]
    now = stored(backend, ids)
    expect(now == {world["id"]: world["randomNumber"] for world in answered}, "/updates: answer is not stored")
    return "/updates: the counts as /queries; 20 updated worlds, each answered value is what the database holds"


def check_fortunes() -> str:
    status, content_type, body = get("/fortunes")
    expect(status == 200, f"/fortunes: status {status}")
    expect(content_type.replace(" ", "").lower() == "text/html;charset=utf-8", f"/fortunes: type {content_type!r}")
    page = body.decode("utf-8")
    expect(page.startswith(PAGE_HEAD) and page.endswith(PAGE_TAIL), "/fortunes: page head or tail differs")
    expect("<script>" not in page, "/fortunes: the <script> fortune is not escaped")
    rows = [(int(number), html.unescape(message)) for number, message in ROW.findall(page)]
    expect(rows == tfb.sorted_fortunes(tfb.FORTUNES), f"/fortunes: rows differ: {rows!r}")
    rebuilt = PAGE_HEAD + "".join(f"<tr><td>{n}</td><td>{m}</td></tr>" for n, m in ROW.findall(page)) + PAGE_TAIL
    expect(rebuilt == page, "/fortunes: markup between the rows")
    return "/fortunes: text/html; charset=utf-8, exact page, 13 rows sorted by message, escaped, UTF-8 intact"


def serve(name: str, target: str, backend: str) -> subprocess.Popen[bytes]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env.update(BENCH_DB=backend, PYTHONPATH=str(DB_DIR))
    argv = ["taskset", "-c", "0", str(GRANIAN), "--interface", "asgi", *GRANIAN_FLAGS]
    argv += ["--host", HOST, "--port", str(PORT), target]
    with (LOG_DIR / f"db-{name}-{backend}.log").open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=DB_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        expect(process.poll() is None, f"{name} on {backend} exited; see {log.name}")
        try:
            get("/db")
        except OSError:
            time.sleep(0.1)
            continue
        return process
    stop(process)
    raise Failure(f"{name} on {backend} did not answer within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and its workers (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def smoke(name: str, backend: str) -> None:
    for path in SMOKE_PATHS:
        argv = ["taskset", "-c", "1", "wrk", "-t1", "-c64", "-d5s", f"http://{HOST}:{PORT}{path}"]
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        print(f"  smoke {name:7} {backend:8} {path:22} {rps.group(1) if rps else '?':>10} req/s", end="")
        print(f"  non-2xx: {errors.group(1)}" if errors else "")


def run_stack(name: str, target: str, backend: str, with_smoke: bool) -> bool:
    checks: list[Callable[[], str]] = [check_db, check_queries, check_fortunes, lambda: check_updates(backend)]
    process = serve(name, target, backend)
    ok = True
    try:
        for check in checks:
            try:
                print(f"  ok   {name:7} {backend:8} {check()}")
            except Failure as failure:
                ok = False
                print(f"  FAIL {name:7} {backend:8} {failure}")
        if with_smoke and ok:
            smoke(name, backend)
    finally:
        stop(process)
    return ok


def main(argv: list[str]) -> int:
    seed.main("both")
    wanted = [arg for arg in argv if not arg.startswith("--")] or [name for name, _, _ in STACKS]
    stacks = [stack for stack in STACKS if stack[0] in wanted]
    results = [run_stack(name, target, backend, "--smoke" in argv) for name, target, backend in stacks]
    print("all answers follow the rules" if all(results) else "some answers break the rules")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Time a nested GraphQL query over the database: Plait vs Strawberry on FastAPI and on Litestar.

``benchmarks/.venv-peers/bin/python benchmarks/graphql/run.py`` seeds both databases (``blog.py``),
serves every stack with granian and the main harness's flags, pinned to the server core, checks
that every stack answers the query with the same data, warms each up, then runs ``--rounds``
rounds of wrk (the harness's client core and connection count), stacks and backends interleaved
(A B C … A B C …). The report gives the median over rounds. Results:
``benchmarks/results/graphql-latest.{md,json}`` (``graphql-custom.*`` when narrowed by an option).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
sys.path[:0] = [str(HERE), str(BENCH_DIR)]

from blog import PAGE, QUERY, seed  # noqa: E402
from harness import environment  # noqa: E402
from harness.config import GENERATED_DIR, HOST, RESULTS_DIR, SERVER_CORE, Scenario  # noqa: E402
from harness.loadgen import run_wrk  # noqa: E402
from harness.payloads import lua_script, script_path  # noqa: E402
from harness.servers import GRANIAN_FLAGS  # noqa: E402

STACKS = {"plait": "Plait (plait.graphql)", "fastapi": "Strawberry on FastAPI", "litestar": "Strawberry on Litestar"}
BACKENDS = ("sqlite", "postgres")
BASE_PORT = 18600
SCENARIO = Scenario(
    "graphql_nested", "nested query", "/graphql", method="POST", body="graphql-nested.json",
    content_type="application/json",
)  # fmt: skip
BODY = json.dumps({"query": QUERY, "operationName": "Nested"}).encode()


class Server:
    def __init__(self, stack: str, backend: str, port: int) -> None:
        self.stack, self.backend, self.port = stack, backend, port
        self.log = GENERATED_DIR / "logs" / f"graphql-{stack}-{backend}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [environment.tool("taskset"), "-c", SERVER_CORE, str(BENCH_DIR / ".venv-peers/bin/granian")]
        argv += [
            "--interface",
            "asgi",
            *GRANIAN_FLAGS,
            "--host",
            HOST,
            "--port",
            str(self.port),
            f"{self.stack}_app:app",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
        env.update(BENCH_DB=self.backend, PYTHONPATH=str(HERE))
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # fmt: skip

    def ask(self) -> Any:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            connection.request("POST", "/graphql", BODY, {"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise SystemExit(f"{self.stack} ({self.backend}) exited; see {self.log}")
            with contextlib.suppress(OSError):
                self.ask()
                return
            time.sleep(0.1)
        raise SystemExit(f"{self.stack} ({self.backend}) not ready after 60 s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def check(servers: list[Server]) -> None:
    """Every stack answers 200 with the same data, a full page of articles with author and two tags."""
    answers = {}
    for server in servers:
        status, body = server.ask()
        items = body.get("data", {}).get("articles", {}).get("items", [])
        ok = status == 200 and "errors" not in body and len(items) == PAGE and all(len(i["tags"]) == 2 for i in items)
        if not ok:
            raise SystemExit(f"{server.stack} ({server.backend}) answered wrongly: {status} {str(body)[:300]}")
        answers[(server.stack, server.backend)] = body["data"]
    if len({json.dumps(a, sort_keys=True) for a in answers.values()}) != 1:
        raise SystemExit(f"the stacks disagree: {answers}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per timed cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk per warm-up cell")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--check", action="store_true", help="start, seed and check every stack; time nothing")
    return parser.parse_args()


def main() -> None:
    args = parse()
    backends = [b for b in args.backends.split(",") if b]
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    (GENERATED_DIR / SCENARIO.body).write_bytes(BODY)
    script_path(SCENARIO).write_text(lua_script(SCENARIO), encoding="utf-8")
    import asyncio

    for backend in backends:
        asyncio.run(seed(backend))
    servers = [Server(s, b, BASE_PORT + i) for i, (b, s) in enumerate((b, s) for b in backends for s in STACKS)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        check(servers)
        print("every stack answers the nested query with the same data")
        if args.check:
            return
        for server in servers:
            run_wrk(server.port, SCENARIO, args.warmup)
        samples: dict[str, list[dict[str, Any]]] = {f"{s.stack}/{s.backend}": [] for s in servers}
        for round_ in range(args.rounds):
            for server in servers:
                sample = run_wrk(server.port, SCENARIO, args.duration)
                samples[f"{server.stack}/{server.backend}"].append(sample.as_dict())
                print(f"round {round_ + 1} {server.stack:8} {server.backend:8} {sample.rps:8.0f} req/s")
        check(servers)  # still right after the load
    finally:
        for server in servers:
            server.stop()
    report(args, backends, samples)


def report(args: argparse.Namespace, backends: list[str], samples: dict[str, list[dict[str, Any]]]) -> None:
    custom = (args.rounds, args.duration, args.warmup, tuple(backends)) != (3, 5, 2, BACKENDS)
    name = "graphql-custom" if custom else "graphql-latest"
    lines = [
        "# GraphQL: a nested query over the database",
        "",
        f"`{QUERY}` — {PAGE} articles, each with its author and two tags (authors and tags batched by DataLoaders",
        "in every stack). granian, one worker pinned to one core, wrk on the other core with 64 connections;",
        f"{args.rounds} rounds of {args.duration} s, stacks interleaved; medians over rounds. "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| backend | stack | req/s | vs Plait | p50 (ms) | p99 (ms) | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend in backends:
        plait_rps = statistics.median(s["rps"] for s in samples[f"plait/{backend}"])
        for stack, title in STACKS.items():
            cell = samples[f"{stack}/{backend}"]
            rps = statistics.median(s["rps"] for s in cell)
            p50 = statistics.median(s["p50_us"] for s in cell) / 1000
            p99 = statistics.median(s["p99_us"] for s in cell) / 1000
            errors = sum(s["socket_errors"] + s["status_errors"] for s in cell)
            lines.append(
                f"| {backend} | {title} | {rps:,.0f} | {rps / plait_rps:.2f}x | {p50:.1f} | {p99:.1f} | {errors} |"
            )
    text = "\n".join(lines) + "\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(text, encoding="utf-8")
    (RESULTS_DIR / f"{name}.json").write_text(
        json.dumps({"query": QUERY, "samples": samples}, indent=1), encoding="utf-8"
    )
    print(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time the TechEmpower database tests by the main harness's method: ``python3 benchmarks/db/run.py``.

Every stack (the raw ceiling, Plait, FastAPI, Litestar, Django) is served by granian with the
harness's flags, pinned to the server core, and loaded by wrk on the client core with the
harness's connection count. A warm-up round seeds both databases, starts every server, checks every
answer (``check.py``; a stack that answers a test wrongly is never timed on it) and loads each cell
briefly. Each timed round then restarts the servers of one backend at a time, checks them again,
warms each up and runs the cells test by test, stacks in turn (A B C … A B C …). Ratios to the raw
ceiling of the same backend are paired per round before the median is taken (``harness.stats``).

Started with any ``python3`` it creates or refreshes the peers venv and re-runs itself inside it,
as ``benchmarks/run.py`` does. Results: ``benchmarks/results/db-latest.{md,json}`` (``db-custom.*``
when the run is narrowed by an option).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

DB_DIR = Path(__file__).resolve().parent
BENCH_DIR = DB_DIR.parent
sys.path[:0] = [str(DB_DIR), str(BENCH_DIR)]

from harness import environment  # noqa: E402 - needs the path above
from harness.config import (  # noqa: E402
    CLIENT_CORE,
    CONNECTIONS,
    GENERATED_DIR,
    HOST,
    RESULTS_DIR,
    SERVER_CORE,
    Scenario,
)

SCRIPT = Path(__file__).resolve()
BASE_PORT = 18400  # stack i of a backend listens on BASE_PORT + i, outside the main harness's ports
READY_TIMEOUT = 60.0
PAUSE = 0.25  # seconds between cells, for the last connections to close
ROUNDS = 5  # timed rounds of a full run (about 16 minutes)


@dataclass(frozen=True)
class Stack:
    key: str
    title: str
    module: str  # the app module; the raw ceiling's depends on the backend (RAW_MODULES)
    orm: bool = True  # held to the "Plait ahead of it" target


STACKS = (
    Stack("raw", "raw ceiling", "raw_app", orm=False),
    Stack("plait", "Plait", "plait_app"),
    Stack("fastapi", "FastAPI + SQLAlchemy", "fastapi_app"),
    Stack("litestar", "Litestar + SQLAlchemy", "litestar_app"),
    Stack("django", "Django ORM (async)", "django_app"),
)
STACK_BY_KEY = {stack.key: stack for stack in STACKS}
RAW_TITLES = {"postgres": "raw asyncpg", "sqlite": "raw aiosqlite"}
RAW_MODULES = {"postgres": "raw_app", "sqlite": "raw_sqlite_app"}
BACKENDS = ("postgres", "sqlite")
TESTS = (
    Scenario("db_single", "single query", "/db"),
    Scenario("db_queries", "20 queries", "/queries?queries=20"),
    Scenario("db_fortunes", "fortunes", "/fortunes"),
    Scenario("db_updates", "20 updates", "/updates?queries=20"),
)
TEST_BY_KEY = {test.key.removeprefix("db_"): test for test in TESTS}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"timed rounds (default {ROUNDS})")
    parser.add_argument("--duration", type=int, default=3, help="seconds of wrk per timed cell (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk per warm-up cell (default 1)")
    parser.add_argument("--stacks", help=f"comma-separated, from {','.join(STACK_BY_KEY)} (raw is always added)")
    parser.add_argument("--backends", help="comma-separated: postgres,sqlite (default both)")
    parser.add_argument("--tests", help=f"comma-separated, from {','.join(TEST_BY_KEY)}")
    parser.add_argument("--output", help="basename of the result files (default db-latest, or db-custom)")
    args = parser.parse_args(argv)
    for option in ("rounds", "duration", "warmup"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    return args


def _pick(raw: str | None, known: dict[str, Any] | tuple[str, ...], what: str) -> list[str] | None:
    if raw is None:
        return None
    names = [name for name in raw.split(",") if name]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; choose from {', '.join(known)}")
    return names


@dataclass
class Plan:
    stacks: list[Stack]
    backends: list[str]
    tests: list[Scenario]
    rounds: int
    duration: int
    warmup: int
    name: str

    def title(self, key: str, backend: str) -> str:
        return RAW_TITLES[backend] if key == "raw" else STACK_BY_KEY[key].title


def build_plan(args: argparse.Namespace) -> Plan:
    stacks = _pick(args.stacks, STACK_BY_KEY, "stack(s)")
    backends = _pick(args.backends, BACKENDS, "backend(s)")
    tests = _pick(args.tests, TEST_BY_KEY, "test(s)")
    narrowed = any(x is not None for x in (stacks, backends, tests))
    custom = narrowed or (args.rounds, args.duration, args.warmup) != (ROUNDS, 3, 1)
    keys = ["raw", *(k for k in (stacks or STACK_BY_KEY) if k != "raw")]
    return Plan(
        stacks=[STACK_BY_KEY[k] for k in keys],
        backends=backends or list(BACKENDS),
        tests=[TEST_BY_KEY[t] for t in tests] if tests else list(TESTS),
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        name=args.output or ("db-custom" if custom else "db-latest"),
    )


class Server:
    """One stack on one backend and port, its own process group, pinned to the server core."""

    def __init__(self, stack: Stack, backend: str, port: int) -> None:
        from harness.servers import GRANIAN_FLAGS

        module = RAW_MODULES[backend] if stack.key == "raw" else stack.module
        self.stack, self.backend, self.port = stack, backend, port
        self.argv = [environment.tool("taskset"), "-c", SERVER_CORE, str(BENCH_DIR / ".venv-peers/bin/granian")]
        self.argv += ["--interface", "asgi", *GRANIAN_FLAGS, "--host", HOST, "--port", str(port), f"{module}:app"]
        self.log = GENERATED_DIR / "logs" / f"db-{stack.key}-{backend}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
        env.update(BENCH_DB=self.backend, PYTHONPATH=str(DB_DIR))
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=DB_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        RUNNING.add(self)

    def wait_ready(self) -> str | None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return f"server exited; see {self.log}"
            connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
            try:
                connection.request("GET", "/db")
                connection.getresponse().read()
                return None
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        return f"not ready after {READY_TIMEOUT:.0f} s; see {self.log}"

    def stop(self) -> None:
        RUNNING.discard(self)
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


RUNNING: set[Server] = set()


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()


def check_server(server: Server, tests: list[Scenario]) -> dict[str, str]:
    """``{test key: problem}`` for every test ``server`` answers against the rules (check.py)."""
    import check

    problem = server.wait_ready()
    if problem is not None:
        return {test.key: problem for test in tests}
    check.use_port(server.port)
    checks = {
        "db_single": check.check_db,
        "db_queries": check.check_queries,
        "db_fortunes": check.check_fortunes,
        "db_updates": lambda: check.check_updates(server.backend),
    }
    failed: dict[str, str] = {}
    for test in tests:
        try:
            checks[test.key]()
        except (check.Failure, OSError, ValueError) as exc:
            failed[test.key] = str(exc)[:200]
    return failed


class Runner:
    def __init__(self, plan: Plan) -> None:
        from harness.stats import Samples

        self.plan = plan
        # samples[backend/test][stack] = one entry per timed round (None where that round failed)
        self.samples: Samples = {
            f"{b}/{t.key}": {s.key: [] for s in plan.stacks} for b in plan.backends for t in plan.tests
        }
        self.skipped: dict[str, dict[str, str]] = {cell: {} for cell in self.samples}
        self.cells = len(plan.backends) * len(plan.tests) * len(plan.stacks) * (plan.rounds + 1)
        self.done = 0
        self.started = time.monotonic()

    def run(self) -> None:
        for round_no in range(self.plan.rounds + 1):
            title = "warm-up round" if round_no == 0 else f"round {round_no}/{self.plan.rounds}"
            print(f"\n== {title} ==", flush=True)
            for index, backend in enumerate(self.plan.backends):
                self.phase(round_no, index, backend)

    def phase(self, round_no: int, index: int, backend: str) -> None:
        from harness.loadgen import LoadError, run_wrk

        fleet = {s.key: Server(s, backend, BASE_PORT + 10 * index + i) for i, s in enumerate(self.plan.stacks)}
        try:
            for server in fleet.values():
                server.start()
            valid: dict[str, set[str]] = {}
            for key, server in fleet.items():
                failed = check_server(server, self.plan.tests)
                valid[key] = {t.key for t in self.plan.tests if t.key not in failed}
                for test_key, problem in failed.items():
                    print(f"  ✗ {key} on {backend} / {test_key}: {problem}", flush=True)
                    if round_no == 0:
                        self.skipped[f"{backend}/{test_key}"][key] = f"n/a: {problem}"
            for key, server in fleet.items():
                if round_no > 0 and valid[key]:
                    with contextlib.suppress(LoadError):
                        run_wrk(server.port, TESTS[0], self.plan.warmup)
                    time.sleep(PAUSE)
            for test in self.plan.tests:
                for key, server in fleet.items():
                    self.cell(round_no, backend, test, server, test.key in valid[key], run_wrk, LoadError)
        finally:
            for server in fleet.values():
                server.stop()

    def cell(self, round_no: int, backend: str, test: Scenario, server: Server, ok: bool, wrk: Any, err: Any) -> None:
        cell = f"{backend}/{test.key}"
        self.done += 1
        if server.stack.key in self.skipped[cell]:
            return
        sample = None
        if ok:
            try:
                sample = wrk(server.port, test, self.plan.warmup if round_no == 0 else self.plan.duration)
            except err as exc:
                print(f"  {server.stack.key} on {cell}: {exc}", flush=True)
            time.sleep(PAUSE)
        if round_no > 0:
            self.samples[cell][server.stack.key].append(sample)
        shown = f"{sample.rps:>8,.0f} req/s  p99 {sample.p99_us / 1000:6.1f} ms" if sample else "-"
        if sample and sample.status_errors:
            shown += f"  {sample.status_errors} error responses"
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.cells - self.done)
        print(
            f"  r{round_no} {backend:8} {test.title:13} {server.stack.key:9} {shown}  "
            f"[{self.done}/{self.cells}, about {left / 60:.0f} min left]",
            flush=True,
        )


def write_scripts(tests: list[Scenario]) -> None:
    from harness.payloads import lua_script, script_path

    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    for test in tests:
        script_path(test).write_text(lua_script(test))


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not environment.running_in_peers():
        environment.ensure_peers()
        environment.reexec_in_peers(SCRIPT, argv)
    environment.ensure_tools()
    import db_report as report
    import seed
    from harness import servers

    plan = build_plan(args)
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    write_scripts(plan.tests)
    seed.main(",".join(plan.backends) if len(plan.backends) == 1 else "both")
    meta: dict[str, Any] = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": environment.git_commit(),
        "machine": environment.machine(),
        "versions": report.versions(),
        "server_flags": "granian --interface asgi " + servers.flags("granian"),
        "connections": CONNECTIONS,
        "server_core": SERVER_CORE,
        "client_core": CLIENT_CORE,
        "rounds": plan.rounds,
        "duration": plan.duration,
        "warmup": plan.warmup,
        "nice": os.nice(0),  # servers and wrk inherit it: `nice -n -10 python3 benchmarks/db/run.py`
    }
    started = time.monotonic()
    runner = Runner(plan)
    runner.run()
    meta["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    meta["elapsed_s"] = round(time.monotonic() - started)
    meta["load_average_end"] = environment.machine()["load_average"]
    markdown, data = report.build(plan, meta, runner.samples, runner.skipped)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{plan.name}.md").write_text(markdown)
    (RESULTS_DIR / f"{plan.name}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"\nDone in {meta['elapsed_s'] / 60:.1f} min. Report: {RESULTS_DIR / plan.name}.md\n")
    print(markdown.split("\n## ", 2)[1] if "\n## " in markdown else markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

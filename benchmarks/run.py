#!/usr/bin/env python3
"""Plait's benchmarks: the same endpoints in each framework, on the same server, side by side.

    make bench                    # the full matrix on granian (under 45 minutes)
    make bench SERVER=uvicorn     # the same on uvicorn
    make bench-quick              # JSON hello + 3 scenarios, Plait vs raw ASGI, Starlette, FastAPI

Started with any ``python3``, the harness creates ``benchmarks/.venv-peers`` (every framework,
both servers and Plait itself, editable), installs wrk if it is missing, and re-runs itself
inside that venv. Results land in ``benchmarks/results/``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import FrameType

from harness import environment
from harness.config import BY_KEY, FULL, PLAIT, QUICK, RAW, SCENARIO_BY_KEY, Plan

SCRIPT = Path(__file__).resolve()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the quick plan (under 5 minutes)")
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--rounds", type=int, help="timed rounds (default: 5 full, 3 quick)")
    parser.add_argument("--duration", type=int, help="seconds of wrk per timed cell (default: 3)")
    parser.add_argument("--warmup", type=int, help="seconds of wrk per warm-up cell (default: 1)")
    parser.add_argument("--frameworks", help="comma-separated keys, e.g. raw,plait,fastapi (raw is always added)")
    parser.add_argument("--scenarios", help="comma-separated keys, e.g. json,deps")
    parser.add_argument("--no-startup", action="store_true", help="skip import-time and memory measurements")
    parser.add_argument("--check", action="store_true", help="only start the servers and check every answer")
    parser.add_argument("--output", help="basename of the result files (default: latest, quick or custom)")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve Plait as of git revision REV, side by side (a previous commit)",
    )
    return parser.parse_args(argv)


def build_plan(args: argparse.Namespace) -> tuple[Plan, str]:
    plan = QUICK if args.quick else FULL
    custom = False
    if args.frameworks:
        keys = [RAW, *(k for k in args.frameworks.split(",") if k != RAW)]
        unknown = [k for k in keys if k not in BY_KEY]
        if unknown:
            raise SystemExit(f"Unknown framework(s) {unknown}; choose from {', '.join(BY_KEY)}.")
        plan, custom = replace(plan, frameworks=tuple(BY_KEY[k] for k in keys)), True
    if args.scenarios:
        unknown = [k for k in args.scenarios.split(",") if k not in SCENARIO_BY_KEY]
        if unknown:
            raise SystemExit(f"Unknown scenario(s) {unknown}; choose from {', '.join(SCENARIO_BY_KEY)}.")
        plan = replace(plan, scenarios=tuple(SCENARIO_BY_KEY[k] for k in args.scenarios.split(",")))
        custom = True
    for option in ("rounds", "duration", "warmup"):
        value = getattr(args, option)
        if value is not None:
            if value < 1:
                raise SystemExit(f"--{option} must be at least 1.")
            plan, custom = replace(plan, **{option: value}), True
    if args.baseline:
        at = plan.frameworks.index(BY_KEY[PLAIT]) + 1 if BY_KEY[PLAIT] in plan.frameworks else 1
        base = environment.baseline_framework(args.baseline)
        plan, custom = replace(plan, frameworks=(*plan.frameworks[:at], base, *plan.frameworks[at:])), True
    if custom:
        plan = replace(plan, name=f"custom ({plan.name})")
    name = args.output or ("custom" if custom else plan.name.replace("full", "latest"))
    if args.server != "granian" and not args.output:
        name += f"-{args.server}"
    return plan, name


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def check_only(plan: Plan, server: str) -> int:
    from harness.runner import Runner

    runner = Runner(replace(plan, rounds=0), server, check_only=True)
    runner.run()
    failures = sum(len(v) for v in runner.skipped.values())
    print(f"\n{failures} framework/scenario pair(s) failed their check." if failures else "\nEvery answer is correct.")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not environment.running_in_peers():
        environment.ensure_peers()
        environment.reexec_in_peers(SCRIPT, argv)
    environment.ensure_tools()

    from harness import payloads, report, servers, startup, stats
    from harness.config import CLIENT_CORE, CONNECTIONS, SERVER_CORE
    from harness.runner import Runner, clock, estimate_seconds

    atexit.register(servers.stop_all)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    plan, basename = build_plan(args)
    payloads.generate()
    if args.check:
        return check_only(plan, args.server)

    meta = {
        "server": args.server,
        "server_flags": servers.flags(args.server),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": environment.git_commit(),
        "machine": environment.machine(),
        "versions": environment.versions(),
        "connections": CONNECTIONS,
        "server_core": SERVER_CORE,
        "client_core": CLIENT_CORE,
    }
    eta = estimate_seconds(plan, not args.no_startup)
    finish = datetime.datetime.now() + datetime.timedelta(seconds=eta)
    print(
        f"Plan {plan.name!r} on {args.server}: {len(plan.frameworks)} frameworks x {len(plan.scenarios)} scenarios x "
        f"{plan.rounds} rounds x {plan.duration} s (+ warm-up).\n"
        f"Estimated {clock(eta)}; done around {finish:%H:%M}.",
        flush=True,
    )
    started = time.monotonic()
    runner = Runner(plan, args.server)
    runner.run()
    measured = {"imports": [], "memory": {}}
    if not args.no_startup:
        print("\n== import time and worker memory ==", flush=True)
        measured = startup.measure(args.server, plan.startup_frameworks, plan.import_runs, plan.warmup)

    meta["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    meta["elapsed"] = clock(time.monotonic() - started)
    meta["load_average_end"] = environment.machine()["load_average"]
    table = stats.summarize_all(runner.samples)
    targets = stats.throughput_targets(plan, table)
    if not args.no_startup:
        targets += stats.startup_targets(measured)
    extra = {"skipped": runner.skipped, "startup": measured, "targets": targets}
    path = report.write(plan, basename, meta, runner.samples, table, extra)
    print(f"\nDone in {meta['elapsed']}. Report: {path}")
    for target in targets:
        print(f"  {target.status:>6}  {target.name} — {target.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

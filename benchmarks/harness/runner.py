"""The timed matrix: rounds of every scenario on every framework, interleaved, with fresh servers.

Round 0 is the warm-up: every server is started, every answer checked (a framework that answers
a scenario wrongly is never timed on it) and every cell loaded briefly, results discarded. Each
timed round then restarts the servers, checks them again, warms each up for a moment and runs
the cells scenario by scenario, frameworks in turn (A B C … A B C …), so that a framework and
raw ASGI are always measured seconds apart. All servers of a phase listen at once, pinned to
the same core; only the one under load uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness import checks
from harness.config import BASE_PORT, Framework, Plan, Scenario
from harness.loadgen import LoadError, Sample, run_wrk
from harness.servers import Server
from harness.stats import Samples

PAUSE = 0.25  # seconds between cells, for the last connections to close
CELL_OVERHEAD = 0.4  # wrk start-up and teardown plus the pause, for the ETA
FLEET_START = 10.0  # starting, checking and stopping one phase's servers, for the ETA
IMPORT_RUN = 0.5  # one fresh interpreter importing a framework, for the ETA
HELLO_SERVER = 3.0  # starting and stopping one hello-world server, for the ETA


def estimate_seconds(plan: Plan, with_startup: bool) -> float:
    cells = len(plan.frameworks) * len(plan.scenarios)
    phases = len(plan.phases)
    warm_round = cells * (plan.warmup + CELL_OVERHEAD)
    timed = plan.rounds * cells * (plan.duration + CELL_OVERHEAD)
    per_round_warmup = plan.rounds * phases * len(plan.frameworks) * (plan.warmup + CELL_OVERHEAD)
    fleets = (plan.rounds + 1) * phases * FLEET_START
    modules = len(plan.startup_frameworks)
    imports = (plan.import_runs + modules * (2 * plan.import_runs + 1)) * IMPORT_RUN
    startup = imports + (modules + 1) * (HELLO_SERVER + plan.warmup) if with_startup else 0
    return warm_round + timed + per_round_warmup + fleets + startup


def clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


@dataclass
class Progress:
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0

    def tick(self) -> str:
        self.done += 1
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        return f"{self.done}/{self.total} · {clock(elapsed)} elapsed · about {clock(left)} left"


class Runner:
    def __init__(self, plan: Plan, server: str, *, check_only: bool = False) -> None:
        self.plan = plan
        self.server = server
        self.check_only = check_only
        self.samples: Samples = {s.key: {f.key: [] for f in plan.frameworks} for s in plan.scenarios}
        self.skipped: dict[str, dict[str, str]] = {s.key: {} for s in plan.scenarios}
        cells = len(plan.frameworks) * len(plan.scenarios)
        self.progress = Progress(cells * (plan.rounds + 1))

    def run(self) -> None:
        for round_no in range(self.plan.rounds + 1):
            print(f"\n== {'warm-up round' if round_no == 0 else f'round {round_no}/{self.plan.rounds}'} ==", flush=True)
            for index, (attribute, scenarios) in enumerate(self.plan.phases):
                self.phase(round_no, index, attribute, scenarios)

    def phase(self, round_no: int, index: int, attribute: str, scenarios: tuple[Scenario, ...]) -> None:
        fleet: dict[str, Server] = {}
        try:
            for i, framework in enumerate(self.plan.frameworks):
                if any(framework.key not in self.skipped[s.key] for s in scenarios):
                    fleet[framework.key] = Server(self.server, framework, attribute, BASE_PORT + 20 * index + i)
                    fleet[framework.key].start()
            valid = {key: self.check(round_no, server, scenarios) for key, server in fleet.items()}
            if self.check_only:
                return
            if round_no > 0:
                self.warm_up(fleet, valid)
            for scenario in scenarios:
                for framework in self.plan.frameworks:
                    self.cell(round_no, scenario, framework, fleet.get(framework.key), valid)
        finally:
            for server in fleet.values():
                server.stop()

    def check(self, round_no: int, server: Server, scenarios: tuple[Scenario, ...]) -> set[str]:
        """The scenarios ``server`` answers correctly this round; round 0 failures are excluded for good."""
        reason = server.wait_ready()
        ok: set[str] = set()
        for scenario in scenarios:
            if server.framework.key in self.skipped[scenario.key]:
                continue
            problem = reason or checks.check(server.port, scenario)
            if problem is None:
                ok.add(scenario.key)
                continue
            print(f"  ✗ {server.framework.title} / {scenario.title}: {problem}", flush=True)
            if round_no == 0:
                self.skipped[scenario.key][server.framework.key] = f"n/a: {problem}"[:200]
        return ok

    def warm_up(self, fleet: dict[str, Server], valid: dict[str, set[str]]) -> None:
        for key, server in fleet.items():
            first = next((s for s in self.plan.scenarios if s.key in valid[key]), None)
            if first is not None:
                try:
                    run_wrk(server.port, first, self.plan.warmup)
                except LoadError as exc:
                    print(f"  ✗ warm-up of {server.framework.title} failed: {exc}", flush=True)
                time.sleep(PAUSE)

    def cell(
        self, round_no: int, scenario: Scenario, framework: Framework, server: Server | None, valid: dict[str, set[str]]
    ) -> None:
        if framework.key in self.skipped[scenario.key]:
            self.progress.done += 1
            return
        sample: Sample | None = None
        label = f"r{round_no} {scenario.key:<10} {framework.title:<14}"
        if server is None or scenario.key not in valid.get(framework.key, set()):
            print(f"  {label} not timed this round (failed its check)", flush=True)
        else:
            seconds = self.plan.warmup if round_no == 0 else self.plan.duration
            try:
                sample = run_wrk(server.port, scenario, seconds)
            except LoadError as exc:
                print(f"  {label} {exc}", flush=True)
            time.sleep(PAUSE)
        if round_no > 0:
            self.samples[scenario.key][framework.key].append(sample)
        shown = f"{sample.rps:>9,.0f} req/s  p99 {sample.p99_us / 1000:6.1f} ms" if sample else "-"
        print(f"  {label} {shown}  [{self.progress.tick()}]", flush=True)

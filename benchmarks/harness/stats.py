"""From raw wrk samples to the numbers in the report: medians, paired ratios, overheads, spread, targets.

Ratios and overheads are paired per round (framework and raw ASGI measured in the same round,
seconds apart) before the median is taken, so slow drifts of the machine cancel out.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.config import CEILING_RATIO, CEILING_SCENARIOS, PLAIT, RAW, Plan
from harness.loadgen import Sample

SPREAD_LIMIT = 0.05

# samples[scenario][framework] = one entry per timed round; None where that round failed.
Samples = dict[str, dict[str, list[Sample | None]]]


@dataclass
class Summary:
    rounds: int
    rps: float
    rps_min: float
    rps_max: float
    spread: float  # (max - min) / median
    p99_ms: float
    ratio: float | None = None  # to raw ASGI, paired per round
    overhead_us: float | None = None  # 1/rps - 1/rps_raw, paired per round
    outliers: list[int] = field(default_factory=list)  # rounds more than 5 % off the median
    socket_errors: int = 0
    status_errors: int = 0

    @property
    def flagged(self) -> bool:
        return self.spread > SPREAD_LIMIT

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged}


def summarize(runs: list[Sample | None], raw: list[Sample | None] | None) -> Summary | None:
    done = [s for s in runs if s is not None]
    if not done:
        return None
    rates = [s.rps for s in done]
    median = statistics.median(rates)
    summary = Summary(
        rounds=len(done),
        rps=median,
        rps_min=min(rates),
        rps_max=max(rates),
        spread=(max(rates) - min(rates)) / median,
        p99_ms=statistics.median(s.p99_us for s in done) / 1000,
        outliers=[i + 1 for i, s in enumerate(runs) if s is not None and abs(s.rps - median) > SPREAD_LIMIT * median],
        socket_errors=sum(s.socket_errors for s in done),
        status_errors=sum(s.status_errors for s in done),
    )
    pairs = [(s, r) for s, r in zip(runs, raw or [], strict=False) if s is not None and r is not None]
    if pairs:
        summary.ratio = statistics.median(s.rps / r.rps for s, r in pairs)
        summary.overhead_us = statistics.median((1 / s.rps - 1 / r.rps) * 1e6 for s, r in pairs)
    return summary


def summarize_all(samples: Samples) -> dict[str, dict[str, Summary]]:
    table: dict[str, dict[str, Summary]] = {}
    for scenario, by_framework in samples.items():
        raw = by_framework.get(RAW)
        table[scenario] = {}
        for framework, runs in by_framework.items():
            summary = summarize(runs, raw)
            if summary is not None:
                table[scenario][framework] = summary
    return table


@dataclass
class Target:
    name: str
    status: str  # "met", "missed", "partial" (met, but Litestar was not in the run) or "n/a"
    detail: str


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "missed")


def throughput_targets(plan: Plan, table: dict[str, dict[str, Summary]]) -> list[Target]:
    targets = []
    peers = [f.key for f in plan.frameworks if f.key not in (RAW, PLAIT)]
    for scenario in plan.scenarios:
        row = table.get(scenario.key, {})
        plait = row.get(PLAIT)
        if scenario.key in CEILING_SCENARIOS:
            ratio = plait.ratio if plait else None
            detail = f"Plait at {ratio:.3f}x raw ASGI" if ratio is not None else "Plait not measured"
            ok = None if ratio is None else ratio >= CEILING_RATIO
            targets.append(Target(f"{scenario.title}: Plait ≥ {CEILING_RATIO}x raw ASGI", _verdict(ok), detail))
            continue
        targets.append(_overhead_target(scenario.title, plait, row, peers))
    return targets


def _overhead_target(title: str, plait: Summary | None, row: dict[str, Summary], peers: list[str]) -> Target:
    name = f"{title}: Plait's overhead ≤ ½ Litestar's and below every peer"
    if plait is None or plait.overhead_us is None:
        return Target(name, "n/a", "Plait not measured")
    mine = plait.overhead_us
    measured = {k: v for k in peers if k in row and (v := row[k].overhead_us) is not None}
    if not measured:
        return Target(name, "n/a", "no peer measured")
    beaten = [k for k, v in measured.items() if v <= mine]
    text = f"Plait {mine:.1f} µs" + ("; lowest of all" if not beaten else f"; not below {', '.join(beaten)}")
    litestar = measured.get("litestar")
    if litestar is None:
        # Only half of the target can be judged without Litestar: say so rather than claim it met.
        return Target(name, "missed" if beaten else "partial", text + "; Litestar not in this run")
    text += f"; Litestar {litestar:.1f} µs"
    return Target(name, _verdict(not beaten and mine <= litestar / 2), text)


def startup_targets(startup: dict[str, Any]) -> list[Target]:
    imports = {i["module"]: i["importtime_ms"] for i in startup.get("imports", [])}
    memory = {k: v.get("rss_mib") for k, v in startup.get("memory", {}).items()}
    targets = []
    plait, fastapi = imports.get("plait"), imports.get("fastapi")
    ok = None if plait is None or fastapi is None else plait < fastapi
    detail = "not measured" if ok is None else f"plait {plait:.0f} ms vs fastapi {fastapi:.0f} ms (-X importtime)"
    targets.append(Target("import plait faster than import fastapi", _verdict(ok), detail))
    plait_rss, fastapi_rss = memory.get(PLAIT), memory.get("fastapi")
    ok = None if plait_rss is None or fastapi_rss is None else plait_rss < fastapi_rss
    detail = "not measured" if ok is None else f"Plait {plait_rss:.1f} MiB vs FastAPI {fastapi_rss:.1f} MiB"
    targets.append(Target("hello-world worker RSS below FastAPI's", _verdict(ok), detail))
    return targets

"""Writing the results: a markdown report, a bar chart and the raw data as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.config import BY_KEY, PLAIT, RAW, RESULTS_DIR, SCENARIO_BY_KEY, Plan
from harness.stats import SPREAD_LIMIT, Summary, Target

MARKS = {"met": "✅ met", "missed": "❌ missed", "partial": "◐ met where measured", "n/a": "- n/a"}


def _fmt(value: float | None, spec: str, empty: str = "-") -> str:
    return empty if value is None else format(value, spec)


def _errors(s: Summary, expect_status: int) -> str:
    notes = [f"{s.socket_errors} socket errors"] if s.socket_errors else []
    if s.status_errors and expect_status < 400:
        notes.append(f"{s.status_errors} error responses")
    return f" ({', '.join(notes)})" if notes else ""


def scenario_table(plan: Plan, key: str, row: dict[str, Summary], skipped: dict[str, str]) -> list[str]:
    scenario = SCENARIO_BY_KEY[key]
    lines = [
        f"### {scenario.title} — `{scenario.method} {scenario.path}`",
        "",
        "| framework | req/s (median) | x raw ASGI | overhead µs/req | p99 ms | min-max req/s | spread |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for framework in plan.frameworks:
        title = f"**{framework.title}**" if framework.key == PLAIT else framework.title
        s = row.get(framework.key)
        if s is None:
            reason = skipped.get(framework.key, "not measured")
            lines.append(f"| {title} | n/a | | | | | {reason} |")
            continue
        flag = " ⚠" if s.flagged else ""
        errors = _errors(s, scenario.expect_status)
        lines.append(
            f"| {title} | {s.rps:,.0f} | {_fmt(s.ratio, '.3f')} | {_fmt(s.overhead_us, '.1f')} | {s.p99_ms:.1f} "
            f"| {s.rps_min:,.0f}-{s.rps_max:,.0f} | {s.spread:.1%}{flag}{errors} |"
        )
    return [*lines, ""]


def ratio_matrix(plan: Plan, table: dict[str, dict[str, Summary]]) -> list[str]:
    names = [f.title for f in plan.frameworks if f.key != RAW]
    lines = ["| scenario | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for scenario in plan.scenarios:
        row = table.get(scenario.key, {})
        cells = [_fmt(row[f.key].ratio if f.key in row else None, ".2f") for f in plan.frameworks if f.key != RAW]
        lines.append(f"| {scenario.title} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def startup_section(startup: dict[str, Any]) -> list[str]:
    if not startup["imports"] and not startup["memory"]:
        return []
    lines = [
        "## Start-up cost",
        "",
        "| import | -X importtime, cumulative (median) | process wall time minus bare interpreter (median) |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| `import {i['module']}` | {i['importtime_ms']:.1f} ms | {i['wall_ms']:.1f} ms |" for i in startup["imports"]
    ]
    lines += ["", "| hello-world worker | VmRSS after warm-up |", "| --- | ---: |"]
    for key, value in startup["memory"].items():
        shown = f"{value['rss_mib']:.1f} MiB" if "rss_mib" in value else f"failed: {value['error']}"
        lines.append(f"| {BY_KEY[key].title} | {shown} |")
    return [*lines, ""]


def markdown(plan: Plan, meta: dict[str, Any], table: dict[str, dict[str, Summary]], extra: dict[str, Any]) -> str:
    targets: list[Target] = extra["targets"]
    lines = [
        f"# Plait benchmarks — {plan.name} run on {meta['server']}",
        "",
        f"{meta['finished']} · commit `{meta['commit']}` · {plan.rounds} rounds x {plan.duration} s per cell "
        f"(warm-up {plan.warmup} s), wrk `-t1 -c{meta['connections']}` on core {meta['client_core']}, "
        f"server on core {meta['server_core']}.",
        "",
        f"Server flags (every framework): `{meta['server_flags']}`.",
        "Overhead is 1/rps - 1/rps(raw ASGI) per request, paired per round; ⚠ marks a spread over "
        f"{SPREAD_LIMIT:.0%} between the slowest and fastest round. Load average at start/end: "
        f"{meta['machine']['load_average']} / {meta['load_average_end']}.",
        "",
        "## Targets (reported, not asserted)",
        "",
        "| target | result | detail |",
        "| --- | --- | --- |",
        *(f"| {t.name} | {MARKS[t.status]} | {t.detail} |" for t in targets),
        "",
        "## Throughput relative to raw ASGI (median of paired rounds; 1.00 = the ceiling)",
        "",
        *ratio_matrix(plan, table),
        "![requests per second relative to raw ASGI](" + extra["chart_name"] + ")",
        "",
        "## Per scenario",
        "",
    ]
    for scenario in plan.scenarios:
        lines += scenario_table(plan, scenario.key, table.get(scenario.key, {}), extra["skipped"].get(scenario.key, {}))
    lines += startup_section(extra["startup"])
    lines += ["## Environment", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in meta["machine"].items()]
    lines += [f"| {k} | {v} |" for k, v in meta["versions"].items()]
    return "\n".join(lines) + "\n"


def _ratio(table: dict[str, dict[str, Summary]], scenario: str, framework: str) -> float:
    summary = table.get(scenario, {}).get(framework)
    return summary.ratio if summary is not None and summary.ratio is not None else 0.0


def chart(plan: Plan, table: dict[str, dict[str, Summary]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frameworks = [f for f in plan.frameworks if f.key != RAW]
    scenarios = plan.scenarios
    width = 0.8 / len(frameworks)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(scenarios) + 2), 5.5))
    for i, framework in enumerate(frameworks):
        values = [_ratio(table, s.key, framework.key) for s in scenarios]
        positions = [j + (i - (len(frameworks) - 1) / 2) * width for j in range(len(scenarios))]
        bold = framework.key == PLAIT
        ax.bar(positions, values, width, label=framework.title, edgecolor="black" if bold else "none", linewidth=1.2)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(scenarios)), [s.title for s in scenarios], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("requests/s ÷ raw ASGI (median of paired rounds)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def write(
    plan: Plan,
    basename: str,
    meta: dict[str, Any],
    samples: dict[str, dict[str, list[Any]]],
    table: dict[str, dict[str, Summary]],
    extra: dict[str, Any],
) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    chart_path = RESULTS_DIR / f"{basename}.png"
    chart(plan, table, chart_path, f"Plait benchmarks ({plan.name}, {meta['server']}) — higher is better")
    extra = {**extra, "chart_name": chart_path.name}
    md_path = RESULTS_DIR / f"{basename}.md"
    md_path.write_text(markdown(plan, meta, table, extra))
    data = {
        "meta": meta,
        "plan": {
            "name": plan.name,
            "rounds": plan.rounds,
            "duration_s": plan.duration,
            "warmup_s": plan.warmup,
            "frameworks": [f.key for f in plan.frameworks],
            "scenarios": [asdict(s) for s in plan.scenarios],
        },
        "samples": {
            sc: {fw: [s.as_dict() if s is not None else None for s in runs] for fw, runs in row.items()}
            for sc, row in samples.items()
        },
        "summary": {sc: {fw: s.as_dict() for fw, s in row.items()} for sc, row in table.items()},
        "skipped": extra["skipped"],
        "startup": extra["startup"],
        "targets": [asdict(t) for t in extra["targets"]],
    }
    (RESULTS_DIR / f"{basename}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return md_path

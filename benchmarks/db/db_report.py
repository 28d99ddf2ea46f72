"""The database tests' report: a markdown summary (req/s and paired ratio to the raw ceiling) and the raw JSON."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from harness.stats import Samples, Summary, summarize

DISTRIBUTIONS = (
    "plait", "fastapi", "litestar", "advanced-alchemy", "django", "sqlalchemy", "asyncpg", "aiosqlite",
    "psycopg", "psycopg-pool", "jinja2", "pydantic", "msgspec", "granian", "uvloop",
)  # fmt: skip
BACKEND_TITLES = {"postgres": "PostgreSQL", "sqlite": "SQLite (WAL)"}


def versions() -> dict[str, str]:
    import platform

    found = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _title(plan: Any, key: str, backend: str) -> str:
    return str(plan.title(key, backend))


def summaries(plan: Any, samples: Samples) -> dict[str, dict[str, Summary]]:
    table: dict[str, dict[str, Summary]] = {}
    for cell, by_stack in samples.items():
        raw = by_stack.get("raw")
        table[cell] = {key: s for key, runs in by_stack.items() if (s := summarize(runs, raw)) is not None}
    return table


def _cell(summary: Summary | None, skipped: str | None) -> str:
    if summary is None:
        return "n/a" if skipped else "-"
    ratio = f" ({summary.ratio:.2f}x)" if summary.ratio is not None else ""
    errors = " ⚠ errors" if summary.status_errors or summary.socket_errors else ""
    return f"{summary.rps:,.0f}{ratio}{errors}"


def summary_tables(plan: Any, table: dict[str, dict[str, Summary]], skipped: dict[str, dict[str, str]]) -> list[str]:
    lines: list[str] = []
    for backend in plan.backends:
        names = [_title(plan, s.key, backend) for s in plan.stacks]
        lines += [f"### {BACKEND_TITLES[backend]}", "", "| test | " + " | ".join(names) + " |"]
        lines.append("| --- |" + " ---: |" * len(names))
        for test in plan.tests:
            cell = f"{backend}/{test.key}"
            row = table.get(cell, {})
            cells = [_cell(row.get(s.key), skipped[cell].get(s.key)) for s in plan.stacks]
            lines.append(f"| {test.title} `{test.path}` | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _niceness(meta: dict[str, Any]) -> str:
    nice = meta.get("nice", 0)
    return f"; servers and wrk ran at nice {nice} (other work on the machine at 0)" if nice else ""


def _shown(summary: Summary) -> str:
    return f"{summary.ratio:.3f}x raw" if summary.ratio is not None else f"{summary.rps:,.0f} req/s"


def targets(plan: Any, table: dict[str, dict[str, Summary]]) -> list[dict[str, str]]:
    """Plait ahead of every ORM-based peer, per backend and test (paired ratios to the same raw ceiling)."""
    found = []
    for backend in plan.backends:
        for test in plan.tests:
            row = table.get(f"{backend}/{test.key}", {})
            plait = row.get("plait")
            peers = {s.key: row[s.key] for s in plan.stacks if s.orm and s.key != "plait" and s.key in row}
            name = f"{BACKEND_TITLES[backend]} {test.title}"
            if plait is None or not peers:
                found.append({"target": name, "status": "n/a", "detail": "Plait or every peer not measured"})
                continue

            def score(s: Summary) -> float:
                return s.ratio if s.ratio is not None else s.rps

            behind = [k for k, s in peers.items() if score(s) >= score(plait)]
            best = max(peers, key=lambda k: score(peers[k]))
            lead = score(plait) / score(peers[best]) - 1
            detail = f"Plait {_shown(plait)}; best peer {best} {_shown(peers[best])}: Plait {lead:+.0%}"
            found.append({"target": name, "status": "missed" if behind else "met", "detail": detail})
    return found


def detail_tables(plan: Any, table: dict[str, dict[str, Summary]], skipped: dict[str, dict[str, str]]) -> list[str]:
    lines: list[str] = []
    for backend in plan.backends:
        for test in plan.tests:
            cell = f"{backend}/{test.key}"
            lines += [f"### {BACKEND_TITLES[backend]} — {test.title} `GET {test.path}`", ""]
            lines += ["| stack | req/s (median) | x raw | overhead µs/req | p99 ms | min-max req/s | spread | errors |"]
            lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for stack in plan.stacks:
                title = _title(plan, stack.key, backend)
                s = table.get(cell, {}).get(stack.key)
                if s is None:
                    lines.append(f"| {title} | n/a | | | | | | {skipped[cell].get(stack.key, 'not measured')} |")
                    continue
                ratio = "-" if s.ratio is None else f"{s.ratio:.3f}"
                overhead = "-" if s.overhead_us is None else f"{s.overhead_us:.0f}"
                flag = " ⚠" if s.flagged else ""
                errors = s.socket_errors + s.status_errors
                lines.append(
                    f"| {title} | {s.rps:,.0f} | {ratio} | {overhead} | {s.p99_ms:.1f} | "
                    f"{s.rps_min:,.0f}-{s.rps_max:,.0f} | {s.spread:.1%}{flag} | {errors or ''} |"
                )
            lines.append("")
    return lines


def build(
    plan: Any, meta: dict[str, Any], samples: Samples, skipped: dict[str, dict[str, str]]
) -> tuple[str, dict[str, Any]]:
    table = summaries(plan, samples)
    goals = targets(plan, table)
    machine = meta["machine"]
    lines = [
        "# TechEmpower database tests",
        "",
        f"{meta['started']} · commit {meta['commit']} · {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory']} · load average at the end {meta['load_average_end']}",
        "",
        f"Every server: `taskset -c {meta['server_core']} {meta['server_flags']}`; wrk on core "
        f"{meta['client_core']}, `-t1 -c{meta['connections']} -d{meta['duration']}s`. A pool of 4 connections "
        f"per worker everywhere{_niceness(meta)}. {meta['rounds']} timed rounds after a warm-up round; in each, "
        "the servers of one backend are restarted, every answer is checked again (`check.py`), and the cells run "
        "test by test with the stacks interleaved, so noise from other work on this 2-core machine hits every stack "
        "alike. Ratios to the raw ceiling of the same backend are paired per round, then the median is taken.",
        "",
        "## Summary: req/s (median) and x the raw ceiling",
        "",
        *summary_tables(plan, table, skipped),
        "## Target: Plait's idiomatic code ahead of every ORM-based peer",
        "",
        "| backend and test | status | detail |",
        "| --- | --- | --- |",
        *(f"| {g['target']} | {g['status']} | {g['detail']} |" for g in goals),
        "",
        "## Per test",
        "",
        "Spread: (slowest - fastest round) / median; ⚠ above 5 %. Errors: socket errors plus non-2xx answers.",
        "",
        *detail_tables(plan, table, skipped),
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "",
    ]
    data = {
        "meta": meta,
        "stacks": [s.key for s in plan.stacks],
        "backends": plan.backends,
        "tests": {t.key: t.path for t in plan.tests},
        "summary": {cell: {k: s.as_dict() for k, s in row.items()} for cell, row in table.items()},
        "samples": {
            cell: {k: [None if x is None else x.as_dict() for x in runs] for k, runs in row.items()}
            for cell, row in samples.items()
        },
        "skipped": skipped,
        "targets": goals,
    }
    return "\n".join(lines), data

"""Running wrk on the client core and reading the line its ``done`` hook prints."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass

from harness.config import CLIENT_CORE, CONNECTIONS, HOST, Scenario
from harness.environment import tool
from harness.payloads import REPORT_PREFIX, script_path


@dataclass
class Sample:
    """One wrk run against one framework."""

    rps: float
    requests: int
    p50_us: int
    p99_us: int
    max_us: int
    socket_errors: int
    status_errors: int  # responses with status >= 400 (expected for the 404 scenario)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


class LoadError(RuntimeError):
    pass


def run_wrk(port: int, scenario: Scenario, seconds: int, path: str | None = None) -> Sample:
    """``seconds`` of wrk on ``scenario`` (at ``path`` instead of the scenario's own, if given)."""
    url = f"http://{HOST}:{port}{scenario.path if path is None else path}"
    argv = [
        tool("taskset"), "-c", CLIENT_CORE, tool("wrk"), "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
        "-s", str(script_path(scenario)), url,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(REPORT_PREFIX)), None)
    if done.returncode != 0 or line is None:
        raise LoadError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}")
    data = json.loads(line[len(REPORT_PREFIX) :])
    return Sample(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        requests=data["requests"],
        p50_us=data["p50_us"],
        p99_us=data["p99_us"],
        max_us=data["max_us"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        status_errors=data["status"],
    )

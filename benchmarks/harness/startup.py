"""Import time and worker memory: what a framework costs before it serves anything.

Import time is read two ways, each the median of N fresh interpreters pinned to the server core:
``python -X importtime`` (the package's cumulative import, interpreter start-up excluded) and the
whole process's wall time minus that of ``python -c pass``. Memory is the VmRSS of a hello-world
worker after a short warm-up, read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from harness.config import BY_KEY, RAW, SCENARIO_BY_KEY, SERVER_CORE, Framework
from harness.environment import tool
from harness.loadgen import run_wrk
from harness.servers import Server, rss_kib

IMPORTS = {"plait": "plait", "fastapi": "fastapi", "litestar": "litestar", "starlette": "starlette"}
HELLO_PORT = 18090


@dataclass
class ImportTime:
    module: str
    importtime_ms: float  # median cumulative time from -X importtime
    wall_ms: float  # median process wall time minus the bare interpreter's


def _pinned(code: str, *options: str) -> list[str]:
    return [tool("taskset"), "-c", SERVER_CORE, sys.executable, *options, "-c", code]


def _cumulative_us(stderr: str, module: str) -> int:
    best = 0
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[2].strip() == module and parts[1].strip().isdigit():
            best = max(best, int(parts[1]))
    return best


def _wall_ms(code: str) -> float:
    started = time.perf_counter()
    subprocess.run(_pinned(code), check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def import_time(module: str, runs: int, bare_ms: float) -> ImportTime:
    subprocess.run(_pinned(f"import {module}"), check=True, capture_output=True)  # bytecode caches warm
    cumulative = []
    for _ in range(runs):
        done = subprocess.run(_pinned(f"import {module}", "-X", "importtime"), check=True, capture_output=True)
        cumulative.append(_cumulative_us(done.stderr.decode(), module) / 1000)
    wall = statistics.median(_wall_ms(f"import {module}") for _ in range(runs))
    return ImportTime(module, statistics.median(cumulative), wall - bare_ms)


@dataclass
class Memory:
    framework: str
    rss_mib: float


def hello_rss(server: str, key: str, warmup: int) -> Memory | str:
    """The hello-world worker's resident memory after ``warmup`` seconds of load, or why it failed."""
    framework = Framework(key, BY_KEY[key].title, f"hello_{key}")
    process = Server(server, framework, "app", HELLO_PORT)
    process.start()
    try:
        reason = process.wait_ready()
        if reason is not None:
            return reason
        run_wrk(HELLO_PORT, SCENARIO_BY_KEY["json"], warmup, path="/")
        time.sleep(0.5)
        return Memory(key, rss_kib(process.worker_pid()) / 1024)
    finally:
        process.stop()


def measure(server: str, keys: tuple[str, ...], runs: int, warmup: int) -> dict[str, object]:
    bare_ms = statistics.median(_wall_ms("pass") for _ in range(runs))
    imports = [asdict(import_time(IMPORTS[k], runs, bare_ms)) for k in keys if k in IMPORTS]
    memory: dict[str, object] = {}
    for key in (RAW, *keys):
        result = hello_rss(server, key, warmup)
        memory[key] = asdict(result) if isinstance(result, Memory) else {"error": result}
    return {"imports": imports, "memory": memory}

"""Request bodies and wrk Lua scripts, generated deterministically under ``benchmarks/.generated/``.

Every scenario gets a script, so that every wrk run ends with the same machine-readable line
(printed by the ``done`` hook from wrk's own latency histogram) instead of scraped text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps import shared

from harness.config import BOUNDARY, GENERATED_DIR, SCENARIOS, Scenario

REPORT_PREFIX = "BENCH-RESULT "

# wrk calls done() once, after the run; latency values are microseconds.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
    .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    "{prefix}", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def order(target_size: int) -> dict[str, Any]:
    """An order whose JSON is just over ``target_size`` bytes."""
    lines: list[dict[str, Any]] = []
    document = {"customer": {"name": "Ada Lovelace", "email": "ada@example.com"}, "items": lines, "note": "ring twice"}
    while len(json.dumps(document)) < target_size:
        i = len(lines)
        lines.append({"sku": f"SKU-{i:05d}", "quantity": 1 + i % 5, "price": 1.25 + (i % 40) * 0.5})
    return document


INVALID_ORDER = {"customer": {"name": "Ada"}, "items": [{"sku": "SKU-1", "quantity": "many", "price": 1.0}]}


def upload_body() -> bytes:
    content = bytes(range(256)) * (shared.UPLOAD_SIZE // 256)
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{shared.UPLOAD_FIELD}"; filename="{shared.UPLOAD_FILENAME}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def bodies() -> dict[str, bytes]:
    return {
        "order-1k.json": json.dumps(order(1024)).encode(),
        "order-10k.json": json.dumps(order(10 * 1024)).encode(),
        "upload-1k.bin": upload_body(),
    }


def body_of(scenario: Scenario) -> bytes:
    return (GENERATED_DIR / scenario.body).read_bytes() if scenario.body else b""


def lua_script(scenario: Scenario) -> str:
    lines = [f'wrk.method = "{scenario.method}"']
    headers = dict(scenario.headers)
    if scenario.content_type:
        headers["Content-Type"] = scenario.content_type
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if scenario.body:
        path = GENERATED_DIR / scenario.body
        lines.append(f'local f = assert(io.open("{path}", "rb"))\nwrk.body = f:read("*a")\nf:close()')
    return "\n".join(lines) + "\n" + _DONE.replace("{prefix}", REPORT_PREFIX)


def script_path(scenario: Scenario) -> Path:
    return GENERATED_DIR / f"{scenario.key}.lua"


def generate() -> None:
    """Write every body and script (cheap, so always rewritten: they never go stale)."""
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in bodies().items():
        (GENERATED_DIR / name).write_bytes(content)
    for scenario in SCENARIOS:
        script_path(scenario).write_text(lua_script(scenario))

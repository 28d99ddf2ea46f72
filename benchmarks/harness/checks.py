"""One correctness request per scenario and framework, before anything is timed.

A framework whose answer is wrong (status, content type, body shape, headers) is not timed for
that scenario: a fast wrong answer is not a result. Each check returns None or the reason.
"""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps import shared

from harness.config import GENERATED_DIR, HOST, Scenario
from harness.payloads import INVALID_ORDER, body_of


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(port: int, scenario: Scenario, body: bytes | None = None, timeout: float = 10.0) -> Answer:
    headers = dict(scenario.headers)
    if scenario.content_type:
        headers["Content-Type"] = scenario.content_type
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        payload = body if body is not None else body_of(scenario)
        connection.request(scenario.method, scenario.path, body=payload or None, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def _json_equal(expected: Any) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        if not answer.header("content-type").startswith("application/json"):
            return f"content-type is {answer.header('content-type')!r}, not application/json"
        try:
            got = answer.json()
        except ValueError:
            return f"body is not JSON: {answer.body[:80]!r}"
        return None if got == expected else f"body {str(got)[:120]} != expected {str(expected)[:120]}"

    return check


def _plaintext(answer: Answer) -> str | None:
    if not answer.header("content-type").startswith("text/plain"):
        return f"content-type is {answer.header('content-type')!r}, not text/plain"
    return None if answer.body == shared.MESSAGE.encode() else f"body is {answer.body[:80]!r}"


def _order(file_name: str) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        sent = json.loads((GENERATED_DIR / file_name).read_bytes())
        reason = _json_keys(answer, {"customer", "items", "total"})
        if reason:
            return reason
        got = answer.json()
        if got["customer"] != sent["customer"]["name"] or got["items"] != len(sent["items"]):
            return f"summary {got} does not match the order sent"
        total = shared.order_total(sent)
        return None if abs(float(got["total"]) - total) < 1e-6 else f"total {got['total']} != {total}"

    return check


def _json_keys(answer: Answer, keys: set[str]) -> str | None:
    try:
        got = answer.json()
    except ValueError:
        return f"body is not JSON: {answer.body[:80]!r}"
    return None if isinstance(got, dict) and set(got) == keys else f"body {str(got)[:120]} lacks keys {keys}"


def _headers(answer: Answer) -> str | None:
    name, value = shared.TRACE_HEADER
    if answer.header(name) != value:
        return f"header {name} is {answer.header(name)!r}"
    if answer.header("cache-control") != shared.CACHE_CONTROL:
        return f"cache-control is {answer.header('cache-control')!r}"
    cookies = ", ".join(answer.all("set-cookie"))
    for cookie, cookie_value in (shared.SESSION_COOKIE, shared.THEME_COOKIE):
        if f"{cookie}={cookie_value}" not in cookies:
            return f"cookie {cookie} missing from set-cookie {cookies!r}"
    return _json_equal({"ok": True})(answer)


def _middleware(answer: Answer) -> str | None:
    if answer.header("access-control-allow-origin") != shared.CORS_ORIGIN:
        return f"access-control-allow-origin is {answer.header('access-control-allow-origin')!r}"
    for name, value in shared.SECURITY_HEADERS.items():
        if answer.header(name).lower() != value.lower():
            return f"security header {name} is {answer.header(name)!r}, not {value!r}"
    if answer.header("content-encoding") != "gzip":
        return f"content-encoding is {answer.header('content-encoding')!r}, not gzip"
    try:
        body = json.loads(gzip.decompress(answer.body))
    except (OSError, ValueError) as exc:
        return f"body is not gzipped JSON: {exc}"
    return None if body == shared.middleware_payload() else "decompressed body differs from the payload"


CHECKS: dict[str, Callable[[Answer], str | None]] = {
    "json": _json_equal({"message": shared.MESSAGE}),
    "plaintext": _plaintext,
    "path": _json_equal({"id": shared.USER_ID}),
    "query": _json_equal(shared.QUERY),
    "post_1k": _order("order-1k.json"),
    "post_10k": _order("order-10k.json"),
    "nested": _json_equal(shared.nested_records()),
    "deps": _json_equal({"depth": shared.DEPENDENCY_DEPTH}),
    "headers": _headers,
    "upload": _json_equal({"filename": shared.UPLOAD_FILENAME, "size": shared.UPLOAD_SIZE}),
    "not_found": lambda answer: None,
    "routes": _json_equal({"route": shared.ROUTE_COUNT - 1, "id": shared.LAST_ROUTE_ITEM}),
    "middleware": _middleware,
}


def check(port: int, scenario: Scenario) -> str | None:
    """None when the framework answers ``scenario`` correctly, else why not."""
    try:
        answer = fetch(port, scenario)
    except OSError as exc:
        return f"request failed: {exc}"
    if answer.status != scenario.expect_status:
        return f"status {answer.status}, expected {scenario.expect_status}: {answer.body[:120]!r}"
    reason = CHECKS[scenario.key](answer)
    if reason is None and scenario.method == "POST" and scenario.content_type == "application/json":
        reason = _rejects_invalid(port, scenario)
    return reason


def _rejects_invalid(port: int, scenario: Scenario) -> str | None:
    """A body endpoint must validate: a wrong type inside the order has to be refused with a 4xx."""
    try:
        answer = fetch(port, scenario, body=json.dumps(INVALID_ORDER).encode())
    except OSError as exc:
        return f"invalid-body request failed: {exc}"
    if 400 <= answer.status < 500:
        return None
    return f"an invalid order got status {answer.status}, not a 4xx: the body is not validated"

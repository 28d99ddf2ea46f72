"""AccessLogMiddleware: the line, escaping of hostile input, errors, request ids, a quiet logger."""

from __future__ import annotations

import logging
import re
from typing import Any

import anyio
import pytest

from plait import Plait, Settings, StreamingResponse
from plait._types import ASGIApp, Receive, Scope, Send
from plait.middleware import AccessLogMiddleware, Middleware, RequestIDMiddleware
from plait.middleware.access_log import escape
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, http_scope, run, websocket_scope

LINE = re.compile(r'(\S+) "(.*)" (\S+) (\d+) (\d+\.\d)ms id=(\S+) ua="(.*)"')


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="plait.access")
    return caplog


def lines(records: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in records.records if record.name == "plait.access"]


def make_app(*middleware: Middleware) -> Plait:
    app = Plait(settings=Settings(), middleware=list(middleware) or [Middleware(AccessLogMiddleware)])
    app.get("/hello")(lambda: "hello")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter(["ab", "cde"]))

    return app


def test_one_line_per_request(records: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app(), headers={"User-Agent": "pytest/1"}) as client:
        client.get("/hello?x=1&y=2")
        client.get("/stream")
        client.get("/missing")
    first, second, third = lines(records)
    match = LINE.fullmatch(first)
    assert match is not None
    assert match.groups()[:4] == ("testclient", "GET /hello?x=1&y=2 HTTP/1.1", "200", "5")
    assert match.group(6, 7) == ("-", "pytest/1")
    assert second.startswith('testclient "GET /stream HTTP/1.1" 200 5 ')
    assert third.startswith('testclient "GET /missing HTTP/1.1" 404 ')


def test_structured_fields_ride_along(records: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        client.get("/hello", headers={"User-Agent": "ua"})
    access: dict[str, Any] = records.records[-1].access  # type: ignore[attr-defined]
    assert access["method"] == "GET"
    assert access["target"] == "/hello"
    assert access["status"] == 200
    assert access["bytes"] == 5
    assert access["user_agent"] == "ua"
    assert access["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain /path", "plain /path"),
        ("a\r\nFAKE 200 line", "a\\r\\nFAKE 200 line"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ('quote " and \\ backslash', 'quote \\" and \\\\ backslash'),
        ("tab\tnul\x00del\x7f", "tab\\tnul\\x00del\\x7f"),
        ("caf\xe9", "caf\\xe9"),
        ("line\u2028sep \u202eevil", "line\\u2028sep \\u202eevil"),
        ("emoji \U0001f600", "emoji \\U0001f600"),
        (b"/caf\xc3\xa9\r\n", "/caf\\xc3\\xa9\\r\\n"),
    ],
)
def test_escape(raw: str | bytes, shown: str) -> None:
    assert escape(raw) == shown
    assert escape(raw).isascii()
    assert escape(raw).isprintable()


def test_log_injection_through_the_user_agent_is_escaped(records: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        client.get("/hello", headers={"User-Agent": '\x1b[2J"\r\nforged 200 line'})
    (line,) = lines(records)
    assert "\n" not in line
    assert "\x1b" not in line
    assert line.endswith('ua="\\x1b[2J\\"\\r\\nforged 200 line"')


def test_control_characters_in_method_and_path_are_escaped(records: pytest.LogCaptureFixture) -> None:
    scope = http_scope("/a\r\nb\x1b[31m", method="GET\x1b", query_string=b"q=\x00\xff", http_version="1.1\n")
    scope["client"] = ("1.2.3.4\r", 1)
    run(AccessLogMiddleware(Recorder()), scope)
    (line,) = lines(records)
    assert line.startswith('1.2.3.4\\r "GET\\x1b /a\\r\\nb\\x1b[31m?q=\\x00\\xff HTTP/1.1\\n" 200 2 ')
    assert line.isprintable()


def test_the_raw_path_is_logged_as_sent(records: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        client.get("/a%0d%0ab")
    assert lines(records)[0].startswith('testclient "GET /a%0d%0ab HTTP/1.1" 404 ')


def test_an_error_in_a_handler_is_logged_as_500(records: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        assert client.get("/boom").status_code == 500
    assert [line for line in lines(records) if '"GET /boom HTTP/1.1" 500 0 ' in line]


def test_an_error_before_the_response_is_logged_and_reraised(records: pytest.LogCaptureFixture) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("no response")

    with pytest.raises(ValueError, match="no response"):
        run(AccessLogMiddleware(broken), http_scope("/x"))
    assert ' "GET /x HTTP/1.1" 500 0 ' in lines(records)[0]


def test_an_error_after_the_response_started_keeps_its_status(records: pytest.LogCaptureFixture) -> None:
    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("cut short")

    with pytest.raises(ValueError, match="cut short"):
        run(AccessLogMiddleware(half), http_scope("/x"))
    assert ' "GET /x HTTP/1.1" 200 4 ' in lines(records)[0]


def test_only_body_bytes_are_counted(records: pytest.LogCaptureFixture) -> None:
    async def with_trailers(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"abc"})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"123")]})

    run(AccessLogMiddleware(with_trailers), http_scope("/t"))
    assert ' "GET /t HTTP/1.1" 200 3 ' in lines(records)[0]


def test_no_response_at_all_is_logged_with_a_dash(records: pytest.LogCaptureFixture) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.sleep(0)

    run(AccessLogMiddleware(silent), http_scope("/x", client=None, headers=[]))
    (line,) = lines(records)
    assert line.startswith('- "GET /x HTTP/1.1" - 0 ')
    assert line.endswith('id=- ua="-"')


@pytest.mark.parametrize(
    "order",
    [
        [Middleware(RequestIDMiddleware), Middleware(AccessLogMiddleware)],
        [Middleware(AccessLogMiddleware), Middleware(RequestIDMiddleware)],
    ],
)
def test_the_request_id_is_logged_whatever_the_order(
    records: pytest.LogCaptureFixture, order: list[Middleware]
) -> None:
    with TestClient(make_app(*order)) as client:
        response = client.get("/hello")
    assert lines(records)[0].split(" id=")[1].startswith(response.headers["x-request-id"] + " ")


def test_a_quiet_logger_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="plait.access")
    seen: list[Send] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(send)
        await Recorder()(scope, receive, send)

    async def main() -> None:
        async def send(message: Any) -> None:
            pass

        async def receive() -> Any:
            return {}

        await AccessLogMiddleware(app)(http_scope(), receive, send)
        assert seen == [send]

    anyio.run(main)
    assert caplog.records == []


def test_a_custom_logger(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("myapp.requests")
    caplog.set_level(logging.INFO, logger="myapp.requests")
    run(AccessLogMiddleware(Recorder(), logger=logger), http_scope("/custom"))
    assert [r.name for r in caplog.records] == ["myapp.requests"]


@pytest.mark.parametrize("scope", [websocket_scope(), {"type": "lifespan"}])
def test_other_scopes_are_not_logged(records: pytest.LogCaptureFixture, scope: Scope) -> None:
    inner: ASGIApp = Recorder()
    run(AccessLogMiddleware(inner), scope)
    assert lines(records) == []

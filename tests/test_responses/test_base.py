"""Tests for the in-memory responses in ``plait.responses.base``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from plait._types import ASGIApp, Message
from plait.exceptions import HTTPException
from plait.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)


def fetch(app: ASGIApp, method: str = "GET") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, "/")

    return anyio.run(go)


def call(app: ASGIApp, method: str = "GET") -> list[Message]:
    """Run ``app`` directly and return every message it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/", "headers": []}
    anyio.run(app, scope, receive, send)
    return sent


def test_bytes_body_with_content_length() -> None:
    response = fetch(Response(b"hello", media_type="application/octet-stream"))
    assert response.status_code == 200
    assert response.content == b"hello"
    assert response.headers["content-length"] == "5"
    assert response.headers["content-type"] == "application/octet-stream"


def test_str_body_length_counts_encoded_bytes() -> None:
    response = fetch(PlainTextResponse("héllo"))
    assert response.headers["content-length"] == str(len("héllo".encode()))
    assert response.text == "héllo"


def test_no_content_gives_empty_body() -> None:
    response = fetch(Response(status_code=201))
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("response", "content_type"),
    [
        (PlainTextResponse("x"), "text/plain; charset=utf-8"),
        (HTMLResponse("<p>x</p>"), "text/html; charset=utf-8"),
        (Response("x", media_type="text/csv"), "text/csv; charset=utf-8"),
        (Response("x", media_type="text/plain; charset=latin-1"), "text/plain; charset=latin-1"),
        (Response("x", media_type="image/png"), "image/png"),
        (JSONResponse([1]), "application/json"),
    ],
)
def test_media_types_and_charset(response: Response, content_type: str) -> None:
    assert fetch(response).headers["content-type"] == content_type


def test_explicit_content_type_header_wins_over_media_type() -> None:
    response = Response("x", headers={"Content-Type": "application/xml"}, media_type="text/plain")
    assert response.headers.getlist("content-type") == ["application/xml"]


def test_explicit_content_length_is_not_duplicated() -> None:
    response = Response(b"abc", headers={"Content-Length": "3"})
    assert response.headers.getlist("content-length") == ["3"]


def test_json_response_encodes_value() -> None:
    response = fetch(JSONResponse({"ok": True, "items": [1, "é"]}, status_code=201))
    assert response.status_code == 201
    assert response.json() == {"ok": True, "items": [1, "é"]}
    assert response.headers["content-length"] == str(len(response.content))


def test_redirect_defaults_to_307_and_quotes_location() -> None:
    response = RedirectResponse("/search?q=a b&lang=fr#top")
    assert response.status_code == 307
    assert response.headers["location"] == "/search?q=a%20b&lang=fr#top"


def test_redirect_quotes_non_ascii_and_keeps_existing_escapes() -> None:
    assert RedirectResponse("/café").headers["location"] == "/caf%C3%A9"
    assert RedirectResponse("/a%20b").headers["location"] == "/a%20b"


def test_redirect_cannot_inject_headers() -> None:
    response = RedirectResponse("/next\r\nSet-Cookie: evil=1", status_code=303)
    assert response.status_code == 303
    assert response.headers["location"] == "/next%0D%0ASet-Cookie:%20evil=1"
    assert "set-cookie" not in response.headers


def test_redirect_is_followed_by_client() -> None:
    sent = call(RedirectResponse("https://example.com/x", status_code=302))
    assert sent[0]["status"] == 302
    assert (b"location", b"https://example.com/x") in sent[0]["headers"]


def test_set_cookie_secure_defaults() -> None:
    response = Response()
    response.set_cookie("sid", "a b")
    assert response.headers["set-cookie"] == "sid=a%20b; Path=/; Secure; HttpOnly; SameSite=Lax"


def test_set_cookie_options_and_multiple_cookies() -> None:
    response = Response()
    response.set_cookie("a", "1", max_age=60, domain="example.com", secure=False, httponly=False, samesite=None)
    response.set_cookie("b", "2", path="/api", samesite="strict")
    cookies = fetch(response).headers.get_list("set-cookie")
    assert cookies == [
        "a=1; Max-Age=60; Path=/; Domain=example.com",
        "b=2; Path=/api; Secure; HttpOnly; SameSite=Strict",
    ]


def test_delete_cookie_expires_it_now() -> None:
    response = Response()
    response.delete_cookie("sid", path="/app")
    assert response.headers["set-cookie"] == "sid=; Max-Age=0; Path=/app; Secure; HttpOnly; SameSite=Lax"


def test_set_cookie_refuses_bad_names() -> None:
    with pytest.raises(ValueError, match="Cookie name"):
        Response().set_cookie("bad;name", "x")


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"])
def test_headers_mapping_refuses_line_breaks(value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response(b"", headers={"X-Note": value})


def test_headers_mapping_refuses_bad_names() -> None:
    with pytest.raises(ValueError, match="not a valid HTTP token"):
        Response(b"", headers={"X Note": "ok"})


def test_custom_headers_are_sent() -> None:
    response = fetch(Response(b"", headers={"X-Request-Id": "42", "Cache-Control": "no-store"}))
    assert response.headers["x-request-id"] == "42"
    assert response.headers["cache-control"] == "no-store"


def test_head_sends_headers_but_no_body() -> None:
    sent = call(PlainTextResponse("hello"), method="HEAD")
    assert sent[0]["status"] == 200
    assert (b"content-length", b"5") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b""}


def test_get_sends_body_in_one_message() -> None:
    sent = call(PlainTextResponse("hello"))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"hello"


@pytest.mark.parametrize("status", [204, 304, 101])
def test_bodiless_statuses_have_no_content_length(status: int) -> None:
    response = Response(status_code=status)
    assert "content-length" not in response.headers


def test_204_over_http() -> None:
    response = fetch(Response(status_code=204))
    assert response.status_code == 204
    assert "content-length" not in response.headers
    assert response.content == b""


# -- header values checked where they are set ---------------------------------------------------------


def test_every_place_a_header_is_set_refuses_line_breaks_naming_the_header() -> None:
    bad = "ok\r\nSet-Cookie: admin=1"
    response = Response()
    places: list[Callable[[], object]] = [
        lambda: Response(b"", headers={"X-Trace": bad}),
        lambda: Response(b"", media_type=bad),
        lambda: response.headers.__setitem__("X-Trace", bad),
        lambda: response.headers.append("X-Trace", bad),
        lambda: response.headers.setdefault("X-Trace", bad),
        lambda: response.headers.update({"X-Trace": bad}),
        lambda: response.set_cookie("sid", "1", path=bad),
        lambda: response.set_cookie("sid", "1", domain=bad),
        lambda: HTTPException(401, headers={"X-Trace": bad}),
    ]
    for place in places:
        with pytest.raises(ValueError, match=r"CR, LF or NUL") as info:
            place()
        assert any(name in str(info.value) for name in ("'X-Trace'", "'content-type'", "'path'", "'domain'"))
    assert [k for k, _ in response.headers.raw] == [b"content-length"]  # nothing bad got in


def test_a_cookie_value_with_line_breaks_is_escaped_not_refused() -> None:
    response = Response()
    response.set_cookie("note", "a\r\nb")
    assert response.headers["set-cookie"].startswith("note=a%0D%0Ab;")


def test_a_header_value_beyond_latin1_is_a_value_error_naming_the_header() -> None:
    with pytest.raises(ValueError, match=r"Header 'X-Name' .* beyond Latin-1"):
        Response(b"", headers={"X-Name": "José ✓"})
    with pytest.raises(ValueError, match=r"Header 'X-Name'"):
        Response().headers["X-Name"] = "✓"
    assert Response(b"", headers={"X-Name": "José"}).headers.raw[0] == (b"x-name", "José".encode("latin-1"))


def test_a_bad_header_in_an_http_exception_is_refused_when_raised_not_as_a_500_later() -> None:
    with pytest.raises(ValueError, match="'WWW-Authenticate'"):
        HTTPException(401, headers={"WWW-Authenticate": "Bearer\nX-Evil: 1"})
    with pytest.raises(ValueError, match="not a valid HTTP token"):
        HTTPException(401, headers={"Bad Name": "x"})
    assert HTTPException(401, headers={"WWW-Authenticate": "Bearer"}).headers == {"WWW-Authenticate": "Bearer"}

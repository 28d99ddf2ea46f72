"""SecurityHeadersMiddleware: defaults, HSTS on https only, opt-outs, the response's own headers win."""

from __future__ import annotations

from typing import Any

import pytest

from plait import ConfigurationError, PlainTextResponse, Plait, Response, Settings
from plait._types import Scope
from plait.middleware import SecurityHeadersMiddleware
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, http_scope, run, websocket_scope

DEFAULTS = {
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}


def make_app(**options: Any) -> Plait:
    app = Plait(settings=Settings())
    app.add_middleware(SecurityHeadersMiddleware, **options)
    app.get("/")(lambda: "hi")

    @app.get("/framed")
    def framed() -> Response:
        return PlainTextResponse(
            "embed me", headers={"X-Frame-Options": "SAMEORIGIN", "Strict-Transport-Security": "max-age=60"}
        )

    return app


def get(path: str = "/", *, scheme: str = "http", **options: Any) -> Any:
    with TestClient(make_app(**options), base_url=f"{scheme}://testserver") as client:
        return client.get(path)


def test_defaults_over_http() -> None:
    response = get()
    for name, value in DEFAULTS.items():
        assert response.headers[name] == value
    assert "strict-transport-security" not in response.headers
    assert "content-security-policy" not in response.headers


def test_hsts_over_https() -> None:
    response = get(scheme="https")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    for name, value in DEFAULTS.items():
        assert response.headers[name] == value


def test_hsts_options() -> None:
    assert get(scheme="https", hsts_max_age=600, include_subdomains=False).headers["strict-transport-security"] == (
        "max-age=600"
    )
    assert get(scheme="https", preload=True).headers["strict-transport-security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "strict-transport-security" not in get(scheme="https", hsts=False).headers


def test_content_security_policy_is_opt_in() -> None:
    policy = "default-src 'self'; img-src https:"
    assert get(content_security_policy=policy).headers["content-security-policy"] == policy


def test_the_response_s_own_headers_win() -> None:
    response = get("/framed", scheme="https")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("strict-transport-security") == ["max-age=60"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_each_header_can_be_left_out() -> None:
    response = get(
        scheme="https",
        hsts=False,
        frame_options=None,
        referrer_policy=None,
        content_type_nosniff=False,
        cross_origin_opener_policy=None,
    )
    assert response.text == "hi"
    assert not set(DEFAULTS) & set(response.headers)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"frame_options": "ALLOW-FROM https://a.example"}, "one of 'DENY', 'SAMEORIGIN'"),
        ({"referrer_policy": "never"}, "referrer_policy='never'"),
        ({"cross_origin_opener_policy": "same-site"}, "cross_origin_opener_policy"),
        ({"hsts_max_age": -5}, "seconds"),
        ({"preload": True, "include_subdomains": False}, "include_subdomains=True"),
        ({"preload": True, "hsts_max_age": 86400}, "one year"),
        ({"content_security_policy": "default-src 'self'\r\nSet-Cookie: a=b"}, "line breaks"),
        ({"content_security_policy": "default-src \u2018self\u2019"}, "ASCII"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SecurityHeadersMiddleware(Recorder(), **options)


def test_a_reused_response_object_is_not_changed() -> None:
    shared = PlainTextResponse("same")
    before = list(shared.headers.raw)
    app = Plait(settings=Settings())
    app.add_middleware(SecurityHeadersMiddleware)
    app.get("/")(lambda: shared)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/").headers.get_list("x-frame-options") == ["DENY"]
    assert shared.headers.raw == before


@pytest.mark.parametrize("scope", [websocket_scope(scheme="wss"), {"type": "lifespan"}])
def test_other_scopes_pass_through(scope: Scope) -> None:
    inner = Recorder()
    run(SecurityHeadersMiddleware(inner), scope)
    assert inner.scope is scope


def test_plain_responses_without_any_header_to_add_are_untouched() -> None:
    inner = Recorder()
    middleware = SecurityHeadersMiddleware(
        inner, frame_options=None, referrer_policy=None, content_type_nosniff=False, cross_origin_opener_policy=None
    )
    messages = run(middleware, http_scope())
    assert messages[0]["headers"] == []
    secure = run(middleware, http_scope(scheme="https"))
    assert secure[0]["headers"] == [(b"strict-transport-security", b"max-age=31536000; includeSubDomains")]

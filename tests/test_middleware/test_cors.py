"""CORSMiddleware: configuration checks, preflights, simple requests, Vary, router scope."""

from __future__ import annotations

from typing import Any

import pytest

from plait import ConfigurationError, Middleware, PlainTextResponse, Plait, Response, Router, Settings
from plait.middleware import CORSMiddleware
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, run, websocket_scope

APP_ORIGIN = "https://app.example.com"


def make_app(**options: Any) -> Plait:
    app = Plait(settings=Settings(), middleware=[Middleware(CORSMiddleware, **options)])

    @app.get("/items")
    def items() -> list[int]:
        return [1, 2]

    @app.post("/items")
    def create() -> dict[str, bool]:
        return {"created": True}

    @app.options("/items")
    def describe() -> PlainTextResponse:
        return PlainTextResponse("the app's own OPTIONS")

    @app.get("/own")
    def own() -> Response:
        return Response(b"x", headers={"Access-Control-Allow-Origin": "https://partner.example", "Vary": "Accept"})

    return app


def preflight(client: TestClient, origin: str = APP_ORIGIN, method: str = "POST", headers: str | None = None) -> Any:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return client.options("/items", headers=sent)


def vary(response: Any) -> set[str]:
    return {item.strip().lower() for value in response.headers.get_list("vary") for item in value.split(",")}


# -- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cookies"),
        ({"allow_origins": ["null"]}, "sandboxed"),
        ({"allow_origins": ["https://app.example.com/"]}, "trailing slash"),
        ({"allow_origins": ["app.example.com"]}, "scheme://host"),
        ({"allow_origins": ["https://app.example.com:443"]}, "without ':443'"),
        ({"allow_origins": "https://app.example.com"}, "not one string"),
        ({"allow_origin_suffixes": ["https://*.com"]}, "two labels"),
        ({"allow_origin_suffixes": ["https://a.*.example.com"]}, "subdomain pattern"),
        ({"allow_origin_suffixes": ["http://*.example.com:80"]}, "without ':80'"),
        ({"allow_methods": ["GET POST"]}, "valid HTTP token"),
        ({"allow_headers": ["x-a\r\nx-b"]}, "valid HTTP token"),
        ({"allow_origins": [APP_ORIGIN], "allow_credentials": True, "expose_headers": ["*"]}, "literally"),
        ({"max_age": -1}, "max_age"),
    ],
)
def test_bad_configuration_is_refused_with_the_fix(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CORSMiddleware(Recorder(), **options)


def test_wildcard_methods_and_headers_are_fine_with_credentials() -> None:
    CORSMiddleware(
        Recorder(), allow_origins=[APP_ORIGIN], allow_methods=["*"], allow_headers=["*"], allow_credentials=True
    )


# -- preflight -------------------------------------------------------------------------------------


def test_allowed_preflight_is_answered_without_the_app() -> None:
    app = make_app(
        allow_origins=[APP_ORIGIN],
        allow_methods=["GET", "post"],
        allow_headers=["Authorization", "X-Trace"],
        allow_credentials=True,
        max_age=120,
    )
    with TestClient(app) as client:
        response = preflight(client, headers="authorization, X-Trace")
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-allow-headers"] == "authorization, x-trace"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "120"
    assert {"origin", "access-control-request-method", "access-control-request-headers"} <= vary(response)


def test_safelisted_headers_are_always_allowed() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN], allow_methods=["POST"])) as client:
        response = preflight(client, headers="Content-Type, accept")
    assert response.status_code == 200
    assert "access-control-allow-headers" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers", "reason"),
    [
        ("https://evil.example", "POST", None, "the origin is not allowed"),
        (APP_ORIGIN, "DELETE", None, "the method is not allowed"),
        (APP_ORIGIN, "PO ST", None, "the method is not allowed"),
        (APP_ORIGIN, "POST", "x-secret", "a requested header is not allowed"),
        (APP_ORIGIN, "POST", "x-trace, bad header", "a requested header is not allowed"),
    ],
)
def test_refused_preflight_is_a_plain_400(origin: str, method: str, headers: str | None, reason: str) -> None:
    app = make_app(allow_origins=[APP_ORIGIN], allow_methods=["GET", "POST"], allow_headers=["x-trace"])
    with TestClient(app) as client:
        response = preflight(client, origin, method, headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"CORS preflight refused: {reason}."
    assert "access-control-allow-origin" not in response.headers
    assert "origin" in vary(response)


def test_every_problem_is_listed() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN])) as client:
        response = preflight(client, "https://evil.example", "PUT", "x-a")
    assert response.text == (
        "CORS preflight refused: the origin is not allowed; the method is not allowed; "
        "a requested header is not allowed."
    )


def test_wildcard_methods_and_headers_echo_the_request() -> None:
    app = make_app(allow_origins=[APP_ORIGIN], allow_methods=["*"], allow_headers=["*"], allow_credentials=True)
    with TestClient(app) as client:
        response = preflight(client, method="PATCH", headers="X-One, x-two")
        bare = preflight(client, method="PATCH")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "PATCH"
    assert response.headers["access-control-allow-headers"] == "x-one, x-two"
    assert "access-control-allow-headers" not in bare.headers


def test_wildcard_origin_preflight() -> None:
    with TestClient(make_app(allow_origins=["*"], allow_methods=["POST"])) as client:
        response = preflight(client, "https://anyone.example")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "origin" not in vary(response)
    assert "access-control-request-method" in vary(response)


def test_options_without_request_method_reaches_the_app() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN])) as client:
        response = client.options("/items", headers={"Origin": APP_ORIGIN})
    assert response.text == "the app's own OPTIONS"
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_preflight_needs_an_origin() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN])) as client:
        response = client.options("/items", headers={"Access-Control-Request-Method": "POST"})
    assert response.text == "the app's own OPTIONS"


# -- simple (actual) requests ----------------------------------------------------------------------


def test_allowed_origin_gets_cors_headers() -> None:
    app = make_app(allow_origins=[APP_ORIGIN], allow_credentials=True, expose_headers=["X-Total", "ETag"])
    with TestClient(app) as client:
        response = client.get("/items", headers={"Origin": APP_ORIGIN})
    assert response.json() == [1, 2]
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Total, ETag"
    assert vary(response) == {"origin"}


def test_origin_matching_ignores_case_and_echoes_what_was_sent() -> None:
    with TestClient(make_app(allow_origins=["HTTPS://App.Example.com"])) as client:
        response = client.get("/items", headers={"Origin": "https://APP.example.com"})
    assert response.headers["access-control-allow-origin"] == "https://APP.example.com"


def test_other_origins_get_no_cors_headers_but_vary() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN], allow_credentials=True)) as client:
        response = client.get("/items", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert vary(response) == {"origin"}


def test_requests_without_origin_still_vary_on_origin() -> None:
    # A cache must not hand this origin-less answer to a cross-origin caller later.
    with TestClient(make_app(allow_origins=[APP_ORIGIN])) as client:
        response = client.get("/items")
    assert "access-control-allow-origin" not in response.headers
    assert vary(response) == {"origin"}


def test_wildcard_origin_sends_star_and_no_vary() -> None:
    with TestClient(make_app(allow_origins=["*", APP_ORIGIN])) as client:
        response = client.get("/items", headers={"Origin": "https://anyone.example"})
        without = client.get("/items")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    assert "vary" not in without.headers


def test_response_with_its_own_cors_headers_keeps_them() -> None:
    with TestClient(make_app(allow_origins=[APP_ORIGIN], allow_credentials=True)) as client:
        response = client.get("/own", headers={"Origin": APP_ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == ["https://partner.example"]
    assert "access-control-allow-credentials" not in response.headers
    assert vary(response) == {"accept", "origin"}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("https://a.b.example.com", True),
        ("https://a.example.com:8443", False),
        ("https://example.com", False),
        ("https://evilexample.com", False),
        ("https://example.com.evil.net", False),
        ("http://a.example.com", False),
        ("https://a.example.com/path", False),
        ("https://[::1]", False),
        ("https://x.dev.test:8443", True),
        ("https://x.dev.test", False),
        ("null", False),
    ],
)
def test_suffix_origins_match_subdomains_only(origin: str, allowed: bool) -> None:
    middleware = CORSMiddleware(Recorder(), allow_origin_suffixes=["https://*.example.com", "https://*.dev.test:8443"])
    result = middleware.allowed_origin(origin.encode())
    assert (result == origin.encode()) is allowed
    assert result is None or allowed


# -- plumbing --------------------------------------------------------------------------------------


def test_a_reused_response_object_is_not_changed() -> None:
    shared = PlainTextResponse("same", headers={"Vary": "Accept"})
    app = Plait(settings=Settings())
    app.add_middleware(CORSMiddleware, allow_origins=[APP_ORIGIN])
    app.get("/")(lambda: shared)
    before = list(shared.headers.raw)
    with TestClient(app) as client:
        for _ in range(2):
            assert vary(client.get("/", headers={"Origin": APP_ORIGIN})) == {"accept", "origin"}
    assert shared.headers.raw == before


def test_websockets_pass_through_untouched() -> None:
    inner = Recorder()
    scope = websocket_scope(headers=[(b"origin", b"https://evil.example")])
    messages = run(CORSMiddleware(inner, allow_origins=[APP_ORIGIN]), scope)
    assert inner.scope is scope
    assert messages == [{"type": "websocket.accept"}]


def test_router_scoped_cors_wraps_only_that_router() -> None:
    api = Router(prefix="/api")
    api.add_middleware(CORSMiddleware, allow_origins=[APP_ORIGIN], allow_methods=["GET", "POST"])
    api.get("/data")(lambda: {"ok": True})
    api.post("/data")(lambda: {"ok": True})
    app = Plait(settings=Settings())
    app.get("/page")(lambda: "page")
    app.include_router(api)
    with TestClient(app) as client:
        inside = client.get("/api/data", headers={"Origin": APP_ORIGIN})
        outside = client.get("/page", headers={"Origin": APP_ORIGIN})
    assert inside.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-origin" not in outside.headers
    assert "vary" not in outside.headers

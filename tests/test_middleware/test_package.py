"""The public surface of plait.middleware, and the middleware working together in one app."""

from __future__ import annotations

import logging
import zlib

import pytest

import plait
import plait.middleware
from plait import PlainTextResponse, Plait, Request, Settings
from plait.middleware import (
    AccessLogMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    HTTPSRedirectMiddleware,
    Middleware,
    ProxyHeadersMiddleware,
    RequestIDMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from plait.testing import TestClient


def test_public_names_are_pinned() -> None:
    assert plait.middleware.__all__ == [
        "AccessLogMiddleware",
        "CORSMiddleware",
        "CompressionMiddleware",
        "GZipMiddleware",
        "HTTPSRedirectMiddleware",
        "Middleware",
        "ProxyHeadersMiddleware",
        "RequestIDMiddleware",
        "SecurityHeadersMiddleware",
        "TrustedHostMiddleware",
        "current_request_id",
    ]
    assert plait.middleware.Middleware is plait.Middleware


def make_app() -> Plait:
    app = Plait(
        settings=Settings(),
        middleware=[
            Middleware(ProxyHeadersMiddleware, trusted_proxies=["*"]),
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"]),
            Middleware(HTTPSRedirectMiddleware),
            Middleware(RequestIDMiddleware),
            Middleware(AccessLogMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(CORSMiddleware, allow_origins=["https://app.example.com"]),
            Middleware(GZipMiddleware),
        ],
    )

    @app.get("/report")
    def report(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{request.url} {request.state.request_id} " + "row\n" * 300)

    return app


def test_the_whole_stack_together(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="plait.access")
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "example.com",
        "X-Forwarded-For": "198.51.100.7",
        "X-Request-ID": "req-42",
        "Origin": "https://app.example.com",
        "Accept-Encoding": "gzip",
    }
    with TestClient(make_app(), base_url="http://internal", follow_redirects=False) as client:
        with client.stream("GET", "/report", headers=headers) as response:
            raw = b"".join(response.iter_raw())
        plain = client.get("/report", headers={"Host": "example.com"})
        foreign = client.get("/report", headers={**headers, "X-Forwarded-Host": "evil.com"})
    assert response.status_code == 200
    body = zlib.decompress(raw, 31).decode()
    assert body.startswith("https://example.com/report req-42 row\n")
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert response.headers["content-encoding"] == "gzip"
    assert plain.status_code == 308
    assert plain.headers["location"] == "https://example.com/report"
    assert foreign.status_code == 400
    logged = [r.getMessage() for r in caplog.records if r.name == "plait.access"]
    assert logged[0].startswith('198.51.100.7 "GET /report HTTP/1.1" 200 ')
    assert " id=req-42 " in logged[0]

"""TrustedHostMiddleware: host parsing, exact and wildcard matching, poisoned Host headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plait import ConfigurationError, Plait, Settings
from plait.middleware import TrustedHostMiddleware
from plait.middleware.hosts import parse_host
from plait.testing import TestClient
from tests.test_middleware.helpers import Recorder, http_scope, run, websocket_scope


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("EXAMPLE.com:8080", ("example.com", 8080)),
        ("example.com.", ("example.com", None)),
        ("example.com:", ("example.com", None)),
        ("my_service:8000", ("my_service", 8000)),
        ("127.0.0.1:80", ("127.0.0.1", 80)),
        ("[::1]", ("[::1]", None)),
        ("[2001:DB8:0::1]:443", ("[2001:db8::1]", 443)),
        ("", None),
        (".", None),
        ("a..b", None),
        ("evil.com/path", None),
        ("user@evil.com", None),
        ("evil.com evil.org", None),
        ("evil.com\r\nX-Injected: 1", None),
        ("évil.com", None),
        ("example.com:8080:80", None),
        ("example.com:99999", None),
        ("example.com:123456", None),
        ("example.com:http", None),
        ("example.com:٣", None),
        ("a" * 64 + ".com", None),
        (".".join(["a" * 60] * 5), None),
        ("[::1", None),
        ("[::1]8000", None),
        ("[not-ipv6]", None),
        ("[fe80::1%25eth0]", None),
        ("::1", None),
    ],
)
def test_parse_host(value: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_host(value) == expected


def make_app(**options: Any) -> Plait:
    app = Plait(settings=Settings())
    app.add_middleware(TrustedHostMiddleware, **options)
    app.get("/")(lambda: "hello")
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = make_app(allowed_hosts=["example.com", "*.example.com", "[::1]", "10.0.0.5"])
    with TestClient(app, base_url="http://example.com") as client:
        yield client


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.COM",
        "example.com.",
        "example.com:8443",
        "api.example.com",
        "a.b.example.com",
        "[::1]:8000",
        "[0:0::1]",
        "10.0.0.5",
    ],
)
def test_allowed_hosts_get_through(client: TestClient, host: str) -> None:
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 200
    assert response.text == "hello"


@pytest.mark.parametrize(
    "host",
    ["evil.com", "example.com.evil.com", "evilexample.com", "xexample.com", "[::2]", "10.0.0.6", "com"],
)
def test_other_hosts_get_a_400_problem(client: TestClient, host: str) -> None:
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The Host header does not name this site."


@pytest.mark.parametrize(
    "host", ["example.com/../evil", "evil.com@example.com", "example.com:80:80", "example.com\x1b[31m", "example.com "]
)
def test_poisoned_host_headers_are_refused(client: TestClient, host: str) -> None:
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert host not in response.text


def test_two_host_headers_are_refused(client: TestClient) -> None:
    response = client.get("/", headers=[("Host", "example.com"), ("Host", "evil.com")])
    assert response.status_code == 400
    assert response.json()["detail"] == "The request has more than one Host header."


def test_a_missing_host_is_refused() -> None:
    inner = Recorder()
    messages = run(TrustedHostMiddleware(inner, allowed_hosts=["example.com"]), http_scope())
    assert messages[0]["status"] == 400
    assert b"The request has no Host header." in messages[1]["body"]
    assert inner.scopes == []


def test_wildcard_does_not_cover_the_bare_domain() -> None:
    middleware = TrustedHostMiddleware(Recorder(), allowed_hosts=["*.example.com"])
    assert middleware.allowed("www.example.com")
    assert not middleware.allowed("example.com")
    assert not middleware.allowed("[::1]")


def test_star_turns_the_check_off() -> None:
    with TestClient(make_app(allowed_hosts=["*"])) as client:
        assert client.get("/", headers={"Host": "anything.test"}).status_code == 200


def test_websockets_are_checked_and_closed() -> None:
    inner = Recorder()
    middleware = TrustedHostMiddleware(inner, allowed_hosts=["example.com"])
    refused = run(middleware, websocket_scope(headers=[(b"host", b"evil.com")]))
    assert refused == [{"type": "websocket.close", "code": 1008, "reason": "Invalid host"}]
    assert inner.scopes == []
    accepted = run(middleware, websocket_scope(headers=[(b"host", b"example.com")]))
    assert accepted == [{"type": "websocket.accept"}]


def test_lifespan_passes_through() -> None:
    inner = Recorder()
    scope = {"type": "lifespan"}
    run(TrustedHostMiddleware(inner, allowed_hosts=["example.com"]), scope)
    assert inner.scope is scope


def test_ipv6_hosts_may_be_configured_without_brackets() -> None:
    middleware = TrustedHostMiddleware(Recorder(), allowed_hosts=["::1", "2001:db8:0:0::1"])
    assert middleware.exact == {"[::1]", "[2001:db8::1]"}


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ([], "would refuse every request"),
        ("example.com", "takes a list"),
        (["example.com:8000"], "without scheme, port or path"),
        (["https://example.com"], "without scheme, port or path"),
        (["*."], "not a host name"),
        (["foo.*.com"], "not a host name"),
        (["*.[::1]"], "not a host name"),
        (["*.::1"], "not a host name"),
    ],
)
def test_bad_configuration_is_refused(hosts: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TrustedHostMiddleware(Recorder(), allowed_hosts=hosts)

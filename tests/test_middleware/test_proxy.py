"""ProxyHeadersMiddleware: trusted vs untrusted peers, X-Forwarded-*, RFC 7239 Forwarded."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from plait import ConfigurationError, Plait, Request, Settings
from plait._types import Scope
from plait.middleware import ProxyHeadersMiddleware
from plait.middleware.proxy import parse_forwarded
from tests.test_middleware.helpers import Recorder, http_scope, run, websocket_scope


def through(
    headers: list[tuple[str, str]], peer: str | None = "10.0.0.1", scope: Scope | None = None, **options: Any
) -> Scope:
    """The scope the app sees for a request from ``peer`` with ``headers``."""
    options.setdefault("trusted_proxies", ["10.0.0.0/8", "192.0.2.1"])
    scope = scope if scope is not None else http_scope()
    scope["headers"] = [(name.lower().encode(), value.encode()) for name, value in headers]
    scope["client"] = (peer, 5000) if peer is not None else None
    inner = Recorder()
    run(ProxyHeadersMiddleware(inner, **options), scope)
    return inner.scope


# -- X-Forwarded-For -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.9", ("203.0.113.9", 0)),
        ("203.0.113.9, 10.1.2.3", ("203.0.113.9", 0)),
        # The client wrote the leftmost entries; only the first untrusted hop from the right counts.
        ("6.6.6.6, 203.0.113.9, 10.1.2.3", ("203.0.113.9", 0)),
        ("203.0.113.9:4711", ("203.0.113.9", 4711)),
        ("[2001:db8::1]:4711", ("2001:db8::1", 4711)),
        ("2001:DB8::1", ("2001:db8::1", 0)),
        ("10.9.9.9, 10.1.2.3", ("10.9.9.9", 0)),
        ("6.6.6.6,192.0.2.1", ("6.6.6.6", 0)),
    ],
)
def test_rightmost_untrusted_hop_becomes_the_client(forwarded_for: str, client: tuple[str, int]) -> None:
    assert through([("X-Forwarded-For", forwarded_for)])["client"] == client


@pytest.mark.parametrize(
    "forwarded_for",
    ["unknown", "203.0.113.9, garbage", "203.0.113.9, , 10.1.2.3", "[::1", "[::1]x", "1.2.3.4:port", "\x1b[31m"],
)
def test_unreadable_hops_leave_the_client_alone(forwarded_for: str) -> None:
    assert through([("X-Forwarded-For", forwarded_for)])["client"] == ("10.0.0.1", 5000)


def test_repeated_headers_are_one_list() -> None:
    scope = through([("X-Forwarded-For", "6.6.6.6, 203.0.113.9"), ("X-Forwarded-For", "10.1.2.3")])
    assert scope["client"] == ("203.0.113.9", 0)


def test_untrusted_peers_are_ignored_entirely() -> None:
    headers = [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.com")]
    original = http_scope()
    scope = through(headers, peer="203.0.113.50", scope=original)
    assert scope is original
    assert scope["client"] == ("203.0.113.50", 5000)
    assert scope["scheme"] == "http"


@pytest.mark.parametrize("peer", [None, "testclient", "unix:/run/app.sock"])
def test_peers_without_an_ip_are_untrusted(peer: str | None) -> None:
    assert through([("X-Forwarded-Proto", "https")], peer=peer)["scheme"] == "http"


def test_star_trusts_every_peer_even_without_an_address() -> None:
    scope = through([("X-Forwarded-For", "1.1.1.1, 2.2.2.2")], peer=None, trusted_proxies=["*"])
    assert scope["client"] == ("1.1.1.1", 0)


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("127.0.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.2.3.4", True),
        ("::1", False),
        ("fd00::5", True),
        ("127.0.0.2", False),
    ],
)
def test_trusted_addresses_and_networks(peer: str, trusted: bool) -> None:
    scope = through(
        [("X-Forwarded-Proto", "https")], peer=peer, trusted_proxies=["127.0.0.1", "10.0.0.0/8", "fd00::/8"]
    )
    assert (scope["scheme"] == "https") is trusted


# -- X-Forwarded-Proto / Host ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proto", "scheme"),
    [
        ("https", "https"),
        ("HTTPS", "https"),
        ("wss", "https"),
        ("http", "http"),
        ("javascript", "http"),
        ("https, http", "http"),
        ("http,https", "https"),
    ],
)
def test_forwarded_proto(proto: str, scheme: str) -> None:
    assert through([("X-Forwarded-Proto", proto)], scope=http_scope(scheme="http"))["scheme"] == scheme


@pytest.mark.parametrize(("proto", "scheme"), [("https", "wss"), ("wss", "wss"), ("http", "ws"), ("ws", "ws")])
def test_forwarded_proto_for_websockets(proto: str, scheme: str) -> None:
    assert through([("X-Forwarded-Proto", proto)], scope=websocket_scope())["scheme"] == scheme


def test_forwarded_host_replaces_the_host_header() -> None:
    scope = through([("Host", "internal:8000"), ("X-Forwarded-Host", "Example.com:8443"), ("Accept", "*/*")])
    assert scope["headers"] == [
        (b"x-forwarded-host", b"Example.com:8443"),
        (b"accept", b"*/*"),
        (b"host", b"example.com:8443"),
    ]
    assert through([("X-Forwarded-Host", "a.example, www.example.com")])["headers"][-1] == (b"host", b"www.example.com")


@pytest.mark.parametrize("host", ["evil.com/x", "a@b", "", "evil.com\x1b"])
def test_malformed_forwarded_host_is_ignored(host: str) -> None:
    headers = [("Host", "internal"), ("X-Forwarded-Host", host)]
    assert through(headers)["headers"][0] == (b"host", b"internal")


def test_the_original_scope_is_not_changed() -> None:
    original = http_scope(headers=[(b"x-forwarded-for", b"1.1.1.1")], client=("10.0.0.1", 5000))
    inner = Recorder()
    run(ProxyHeadersMiddleware(inner, trusted_proxies=["10.0.0.1"]), original)
    assert inner.scope is not original
    assert inner.scope["client"] == ("1.1.1.1", 0)
    assert original["client"] == ("10.0.0.1", 5000)


def test_lifespan_passes_through() -> None:
    inner = Recorder()
    scope = {"type": "lifespan"}
    run(ProxyHeadersMiddleware(inner, trusted_proxies=["*"]), scope)
    assert inner.scope is scope


# -- RFC 7239 Forwarded ----------------------------------------------------------------------------


def test_parse_forwarded() -> None:
    assert parse_forwarded('for="_hidden";By=x;;host="a\\"b", proto=https;junk') == [
        {"for": "_hidden", "by": "x", "host": 'a"b'},
        {"proto": "https"},
    ]
    assert parse_forwarded('for="1.2.3.4') is None
    assert parse_forwarded("") == [{}]


def forwarded(value: str, **options: Any) -> Scope:
    return through([("Host", "internal"), ("Forwarded", value)], use_forwarded=True, **options)


def test_forwarded_element_where_the_walk_stops_is_used() -> None:
    scope = forwarded("for=203.0.113.9;proto=https;host=example.com, for=10.1.1.1;proto=http;host=lb.internal")
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "https"
    assert (b"host", b"example.com") in scope["headers"]


def test_forwarded_quoted_ipv6_with_port() -> None:
    assert forwarded('for="[2001:db8:cafe::17]:4711"')["client"] == ("2001:db8:cafe::17", 4711)


def test_forwarded_spoofed_entries_to_the_left_are_ignored() -> None:
    assert forwarded("for=6.6.6.6;proto=https, for=203.0.113.9;proto=http")["scheme"] == "http"


def test_forwarded_obfuscated_client_keeps_the_peer_but_uses_the_element() -> None:
    scope = forwarded("for=unknown;proto=https")
    assert scope["client"] == ("10.0.0.1", 5000)
    assert scope["scheme"] == "https"


@pytest.mark.parametrize("value", ['for="1.2.3.4;proto=https', ""])
def test_unusable_forwarded_is_ignored(value: str) -> None:
    scope = forwarded(value)
    assert scope["client"] == ("10.0.0.1", 5000)
    assert scope["scheme"] == "http"


def test_one_header_family_at_a_time() -> None:
    both = [("Forwarded", "for=1.1.1.1;proto=https"), ("X-Forwarded-For", "2.2.2.2"), ("X-Forwarded-Proto", "wss")]
    assert through(both, use_forwarded=True)["client"] == ("1.1.1.1", 0)
    assert through(both)["client"] == ("2.2.2.2", 0)
    only_x = [("X-Forwarded-For", "2.2.2.2")]
    assert through(only_x, use_forwarded=True)["client"] == ("10.0.0.1", 5000)


# -- configuration and a real app ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "message"),
    [(["localhost"], "host names are not resolved"), (["10.0.0.0/33"], "not an IP"), ("10.0.0.1", "takes a list")],
)
def test_bad_configuration_is_refused(proxies: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProxyHeadersMiddleware(Recorder(), trusted_proxies=proxies)


def test_requests_in_a_plait_app_see_the_real_client() -> None:
    app = Plait(settings=Settings())
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"])

    @app.get("/who")
    def who(request: Request) -> dict[str, str]:
        return {"client": request.client.host if request.client else "", "url": str(request.url)}

    async def call(peer: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(peer, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
            headers = {
                "X-Forwarded-For": "198.51.100.7",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "example.com",
            }
            return await client.get("/who?x=1", headers=headers)

    assert anyio.run(call, "127.0.0.1").json() == {"client": "198.51.100.7", "url": "https://example.com/who?x=1"}
    assert anyio.run(call, "203.0.113.1").json() == {"client": "203.0.113.1", "url": "http://internal/who?x=1"}

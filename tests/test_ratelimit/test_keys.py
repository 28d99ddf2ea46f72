"""Key functions: addresses (IPv6 grouped by /64), users, API keys."""

from __future__ import annotations

from typing import Any

from plait import Request
from plait.ratelimit import api_key_or_ip, client_ip, user_or_ip


def request(client: Any = ("192.0.2.7", 1234), headers: Any = None, **scope: Any) -> Request:
    return Request({"type": "http", "client": client, "headers": headers or [], **scope})


def test_client_addresses() -> None:
    assert client_ip(request()) == "ip:192.0.2.7"
    assert client_ip(request(("2001:db8:1:2:3:4:5:6", 1))) == "ip:2001:db8:1:2::/64"
    assert client_ip(request(("::ffff:192.0.2.9", 1))) == "ip:192.0.2.9"
    assert client_ip(request(None)) == "ip:unknown"
    assert client_ip(request(("testclient", 50000))) == "ip:testclient"


def test_users_by_id_then_pk_then_address() -> None:
    class ById:
        id = 7

    class ByPk:
        id = None
        pk = "u-9"

    assert user_or_ip(request(**{"plait.user": ById()})) == "user:7"
    assert user_or_ip(request(**{"plait.user": ByPk()})) == "user:u-9"
    assert user_or_ip(request(**{"plait.user": object()})) == "ip:192.0.2.7"
    assert user_or_ip(request()) == "ip:192.0.2.7"


def test_api_keys_are_hashed() -> None:
    key = api_key_or_ip()
    hashed = key(request(headers=[(b"x-api-key", b"secret-key")]))
    assert hashed.startswith("key:")
    assert "secret" not in hashed
    assert len(hashed) == 36
    assert key(request(headers=[(b"x-api-key", b"")])) == "ip:192.0.2.7"


def test_the_public_surface_is_pinned() -> None:
    import plait.ratelimit

    assert sorted(plait.ratelimit.__all__) == [
        "Decision", "Limit", "MemoryRateLimitBackend", "RateLimit", "RateLimitBackend", "RateLimitSettings",
        "RateLimiter", "RedisRateLimitBackend", "api_key_or_ip", "client_ip", "headers_for", "rate_limit", "user_or_ip",
    ]  # fmt: skip
    assert all(hasattr(plait.ratelimit, name) for name in plait.ratelimit.__all__)

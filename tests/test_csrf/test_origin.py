"""Origin and Referer checks as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from plait.csrf.origin import origin_problem, own_origin, parse_origin, trusted


def scope(scheme: str = "https", host: str | None = "example.com") -> dict[str, Any]:
    headers = [(b"host", host.encode())] if host is not None else []
    return {"scheme": scheme, "server": ("10.0.0.1", 8000), "headers": headers}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com", ("https", "example.com", 443)),
        ("http://Example.COM:80", ("http", "example.com", 80)),
        ("https://example.com:8443/path?q", ("https", "example.com", 8443)),
        ("null", None),
        ("ftp://example.com", None),
        ("https://", None),
        ("https://example.com:99999", None),
    ],
)
def test_parse_origin(value: str, expected: Any) -> None:
    assert parse_origin(value) == expected


def test_own_origin_uses_the_host_header_else_the_server() -> None:
    assert own_origin(scope(host="example.com:443")) == ("https", "example.com", 443)
    assert own_origin(scope(host=None)) == ("https", "10.0.0.1", 8000)
    assert own_origin({"scheme": "http", "headers": []}) is None


def test_trusted_patterns() -> None:
    patterns = ["https://*.example.com", "http://localhost:3000"]
    assert trusted(("https", "a.b.example.com", 443), patterns)
    assert trusted(("http", "localhost", 3000), patterns)
    assert not trusted(("https", "example.com.evil", 443), patterns)
    assert not trusted(("https", "evilexample.com", 443), patterns)
    assert not trusted(("http", "localhost", 3001), patterns)
    assert not trusted(("https", "x.example.com", 443), ["not an origin"])


@pytest.mark.parametrize(
    ("scheme", "headers", "code"),
    [
        ("https", {"origin": "https://example.com"}, None),
        ("https", {"origin": "null"}, "csrf_origin_null"),
        ("http", {"origin": "null"}, "csrf_origin_null"),
        ("https", {"origin": "https://evil.example"}, "csrf_origin_mismatch"),
        ("https", {"origin": "http://example.com"}, "csrf_origin_mismatch"),  # a downgrade is another origin
        ("http", {"origin": "http://evil.example"}, "csrf_origin_mismatch"),
        ("https", {"origin": "garbage"}, "csrf_origin_mismatch"),
        ("https", {"origin": "https://app.partner.example"}, None),
        ("https", {}, "csrf_referer_missing"),
        ("https", {"referer": "https://example.com/form"}, None),
        ("https", {"referer": "http://example.com/form"}, "csrf_referer_insecure"),
        ("https", {"referer": "https://evil.example/form"}, "csrf_referer_mismatch"),
        ("https", {"referer": "https://app.partner.example/"}, None),
        ("http", {}, None),  # plain HTTP without Origin: only the token protects (no Referer rule)
        ("http", {"referer": "http://evil.example/"}, None),
    ],
)
def test_origin_problem(scheme: str, headers: dict[str, str], code: str | None) -> None:
    host = "example.com"
    problem = origin_problem(scope(scheme, host), headers, ["https://*.partner.example"])
    assert (problem[0] if problem else None) == code

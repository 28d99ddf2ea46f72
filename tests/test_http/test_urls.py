"""same_site_path: redirect targets built from request data stay on the site."""

from __future__ import annotations

import pytest

from plait.http.urls import same_site_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/docs", "/docs"),
        ("/docs/?q=1&r=//x", "/docs/?q=1&r=//x"),
        ("//evil.example/", "/evil.example/"),
        ("///evil.example", "/evil.example"),
        ("/\\evil.example", "/evil.example"),
        ("\\\\evil.example", "/evil.example"),
        ("/\\/\\evil.example", "/evil.example"),
        ("/\t/evil.example", "/%09/evil.example"),
        ("/\r\n/evil.example", "/%0D%0A/evil.example"),
        ("/ /evil.example", "/%20/evil.example"),
        ("/\x00x\x7f", "/%00x%7F"),
        ("/caf\xe9", "/caf%E9"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ("evil.example", "/evil.example"),
        ("https://evil.example/", "/https://evil.example/"),
        ("", "/"),
    ],
)
def test_same_site_path(target: str, expected: str) -> None:
    assert same_site_path(target) == expected

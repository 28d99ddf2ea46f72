"""Tests for ``plait.http.cookies``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from plait.http.cookies import build_set_cookie, parse_cookie

# --- parse_cookie ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("a=1", {"a": "1"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2", {"a": "1", "b": "2"}),
        ("  a = 1 ;  b=two words  ", {"a": "1", "b": "two words"}),
        ("b=hello%20world; c=%E2%82%AC", {"b": "hello world", "c": "€"}),
        ('q="quoted value"', {"q": "quoted value"}),
        ('q="%41"', {"q": "A"}),
        ('q="', {"q": '"'}),
        ('q=""', {"q": ""}),
        ("empty=", {"empty": ""}),
        ("token=abc==; x=a=b", {"token": "abc==", "x": "a=b"}),
        ("a=1; a=2", {"a": "1"}),
        ("junk; a=1", {"a": "1"}),
        ("=nameless; a=1", {"a": "1"}),
        ("a=1;;; ;b=2;", {"a": "1", "b": "2"}),
        ("bad=%ZZ", {"bad": "%ZZ"}),
        ("Name=1; name=2", {"Name": "1", "name": "2"}),
    ],
)
def test_parse_cookie(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie(header) == expected


# --- build_set_cookie ---------------------------------------------------------------------------


def test_secure_defaults() -> None:
    assert build_set_cookie("sid", "abc") == "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"


def test_value_is_percent_encoded_and_round_trips() -> None:
    value = 'a b;c,d"e=f/€'
    header = build_set_cookie("data", value)
    cookie = header.split("; ")[0]
    assert cookie == "data=a%20b%3Bc%2Cd%22e%3Df%2F%E2%82%AC"
    assert parse_cookie(cookie) == {"data": value}


def test_empty_value() -> None:
    assert build_set_cookie("sid", max_age=0).startswith("sid=; Max-Age=0; ")


def test_every_attribute_in_order() -> None:
    header = build_set_cookie(
        "sid",
        "v",
        max_age=3600,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        path="/app",
        domain="example.com",
        samesite="strict",
        partitioned=True,
    )
    assert header == (
        "sid=v; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/app; "
        "Domain=example.com; Secure; HttpOnly; SameSite=Strict; Partitioned"
    )


def test_max_age_is_an_integer() -> None:
    header = build_set_cookie("a", max_age=int(timedelta(days=1).total_seconds()))
    assert "Max-Age=86400;" in header


def test_naive_expires_is_taken_as_utc() -> None:
    header = build_set_cookie("a", expires=datetime(2030, 6, 1, 12, 0, 0))
    assert "Expires=Sat, 01 Jun 2030 12:00:00 GMT" in header


def test_aware_expires_is_converted_to_utc() -> None:
    paris_summer = timezone(timedelta(hours=2))
    header = build_set_cookie("a", expires=datetime(2030, 6, 1, 12, 0, 0, tzinfo=paris_summer))
    assert "Expires=Sat, 01 Jun 2030 10:00:00 GMT" in header
    behind = timezone(timedelta(hours=-5))
    header = build_set_cookie("a", expires=datetime(2030, 12, 31, 22, 30, tzinfo=behind))
    assert "Expires=Wed, 01 Jan 2031 03:30:00 GMT" in header


def test_optional_attributes_can_be_turned_off() -> None:
    header = build_set_cookie("a", "1", path="", secure=False, httponly=False, samesite=None)
    assert header == "a=1"


def test_samesite_none_requires_secure() -> None:
    with pytest.raises(ValueError, match=r"SameSite=None cookies must also be Secure; pass secure=True"):
        build_set_cookie("a", samesite="none", secure=False)
    assert build_set_cookie("a", samesite="none").endswith("; Secure; HttpOnly; SameSite=None")


def test_samesite_is_case_insensitive_and_checked() -> None:
    loose: Any = "None"
    with pytest.raises(ValueError, match="must also be Secure"):
        build_set_cookie("a", samesite=loose, secure=False)
    loose = "STRICT"
    assert build_set_cookie("a", samesite=loose).endswith("SameSite=Strict")
    loose = "sometimes"
    with pytest.raises(ValueError, match="samesite='sometimes' is not valid; pass 'lax', 'strict', 'none'"):
        build_set_cookie("a", samesite=loose)


@pytest.mark.parametrize(
    "name",
    ["", "a b", "a;b", "a=b", "a,b", 'a"b', "a\tb", "a\r\nb", "a\x00", "a\x01", "(a)", "a/b", "é", "a@b"],
)
def test_invalid_names_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is invalid; use letters, digits, '-' and '_'"):
        build_set_cookie(name, "v")


@pytest.mark.parametrize("name", ["sid", "__Host-sid", "a.b", "X-Token_2", "a!#$%&'*+^`|~"])
def test_token_names_accepted(name: str) -> None:
    assert build_set_cookie(name, "v").startswith(f"{name}=v; ")


def cookie_with(attribute: str, value: str) -> str:
    if attribute == "path":
        return build_set_cookie("a", path=value)
    return build_set_cookie("a", domain=value)


@pytest.mark.parametrize("attribute", ["path", "domain"])
@pytest.mark.parametrize("value", ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\x00"])
def test_path_and_domain_refuse_line_breaks(attribute: str, value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        cookie_with(attribute, value)


@pytest.mark.parametrize("attribute", ["path", "domain"])
def test_path_and_domain_refuse_attribute_injection(attribute: str) -> None:
    with pytest.raises(ValueError, match="contains ';', which would inject extra cookie attributes"):
        cookie_with(attribute, "/x; Domain=evil.example")


def test_cookies_with_invalid_utf8_are_skipped_and_the_others_kept() -> None:
    header = "a=%FF; b=2; c=caf\xc3\xa9; d=\xff; caf\xc3\xa9=x; e=%C3%A9; f=100%"
    assert parse_cookie(header) == {"b": "2", "c": "café", "café": "x", "e": "é", "f": "100%"}


def test_a_cookie_name_beyond_latin1_is_skipped() -> None:
    assert parse_cookie("\u2713=1; ok=2") == {"ok": "2"}

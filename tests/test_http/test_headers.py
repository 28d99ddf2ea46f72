"""Tests for ``plait.http.headers``."""

from __future__ import annotations

import pytest

from plait.http.headers import (
    check_header_name,
    check_header_value,
    encode_header_value,
    media_type_matches,
    parse_options_header,
)

# --- check_header_value -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "42", "text/html; charset=utf-8", "a\tb", "café", "x" * 8000])
def test_header_value_accepted_unchanged(value: str) -> None:
    assert check_header_value("x-a", value) == value


@pytest.mark.parametrize(
    "value",
    ["a\rb", "a\nb", "a\x00b", "ok\r\nSet-Cookie: session=stolen", "\n", "trailing\r"],
)
def test_header_value_with_cr_lf_or_nul_refused(value: str) -> None:
    with pytest.raises(ValueError, match="Header 'x-a' contains a CR, LF or NUL") as info:
        check_header_value("x-a", value)
    assert "Remove the line breaks" in str(info.value)


# --- check_header_name ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x-a", "Content-Type", "X_Custom.1", "a!#$%&'*+-.^_`|~z", "9"])
def test_header_name_tokens_accepted(name: str) -> None:
    assert check_header_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "x a", "x\ta", "x:a", "x\r\na", "x\x00", "x\x01", "x\x7f", "(x)", "x/y", 'x"', "x=y", "é", "x{}"],
)
def test_header_name_non_tokens_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid HTTP token; use letters, digits and '-'"):
        check_header_name(name)


# --- parse_options_header -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("text/html", ("text/html", {})),
        ("", ("", {})),
        ("  Text/HTML ; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ("text/plain;charset=utf-8;format=flowed", ("text/plain", {"charset": "utf-8", "format": "flowed"})),
        ('multipart/form-data; boundary="abc"', ("multipart/form-data", {"boundary": "abc"})),
        ("a; key = value ", ("a", {"key": "value"})),
        ('a; key = "spaced value" ', ("a", {"key": "spaced value"})),
        ('a; empty=""; bare=', ("a", {"empty": "", "bare": ""})),
        ("a; flag; x=1", ("a", {"x": "1"})),
        ("a; =orphan; x=1", ("a", {"x": "1"})),
        ("a;;; x=1;", ("a", {"x": "1"})),
        ("a; x=1; x=2", ("a", {"x": "2"})),
    ],
)
def test_parse_options_header(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(header) == expected


def test_quoted_parameter_may_hold_semicolons_and_equals() -> None:
    header = 'form-data; name="a;b=c"; filename="my; file.txt"'
    assert parse_options_header(header) == ("form-data", {"name": "a;b=c", "filename": "my; file.txt"})


def test_quoted_parameter_escapes() -> None:
    header = r'form-data; name="say \"hi\""; path="back\\slash"; other="C:\dir"'
    main, params = parse_options_header(header)
    assert main == "form-data"
    assert params == {"name": 'say "hi"', "path": "back\\slash", "other": "C:\\dir"}


def test_unbalanced_quote_is_kept_verbatim() -> None:
    assert parse_options_header('a; x="open; y=2') == ("a", {"x": '"open', "y": "2"})


# --- media_type_matches -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "accepted", "expected"),
    [
        ("application/json", ("application/json",), True),
        ("application/json; charset=utf-8", ("application/json",), True),
        ("Application/JSON", ("application/json",), True),
        ("application/problem+json", ("application/json",), True),
        ("application/vnd.api+json; charset=utf-8", ("application/json",), True),
        ("application/problem+json", ("text/plain",), False),
        ("text/foo+json", ("application/json",), False),
        ("application/jsonx", ("application/json",), False),
        ("application/json-patch", ("application/json",), False),
        ("application/xml", ("application/json",), False),
        ("text/plain", ("application/json", "text/plain"), True),
        ("multipart/form-data; boundary=x", ("multipart/form-data",), True),
        ("text/html", (), False),
        (None, ("application/json",), False),
        ("", ("application/json",), False),
    ],
)
def test_media_type_matches(content_type: str | None, accepted: tuple[str, ...], expected: bool) -> None:
    assert media_type_matches(content_type, *accepted) is expected


def test_encode_header_value_checks_and_encodes() -> None:
    assert encode_header_value("x-name", "café") == b"caf\xe9"
    with pytest.raises(ValueError, match="Header 'x-name' contains a CR, LF or NUL"):
        encode_header_value("x-name", "a\nb")
    with pytest.raises(ValueError, match=r"Header 'x-name' holds .* beyond Latin-1"):
        encode_header_value("x-name", "✓")

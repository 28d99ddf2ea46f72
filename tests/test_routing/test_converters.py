"""Tests for ``plait.routing.converters``."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from plait.exceptions import ConfigurationError
from plait.routing import converters
from plait.routing.converters import (
    CONVERTERS,
    Converter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StrConverter,
    UUIDConverter,
    get_converter,
    register_converter,
)


def fullmatch(converter: Converter, text: str) -> bool:
    return re.fullmatch(converter.pattern, text) is not None


# --- built-ins --------------------------------------------------------------------------------


def test_builtin_table_names_every_converter() -> None:
    assert set(CONVERTERS) == {"str", "path", "int", "float", "uuid"}
    assert isinstance(CONVERTERS["str"], StrConverter)
    assert isinstance(CONVERTERS["path"], PathConverter)
    assert isinstance(CONVERTERS["int"], IntConverter)
    assert isinstance(CONVERTERS["float"], FloatConverter)
    assert isinstance(CONVERTERS["uuid"], UUIDConverter)


@pytest.mark.parametrize("text", ["a", "hello-world", "caf\u00e9", "a.b", "%20", "1"])
def test_str_pattern_matches_one_segment(text: str) -> None:
    assert fullmatch(StrConverter(), text)
    assert StrConverter().to_python(text) == text


@pytest.mark.parametrize("text", ["", "a/b", "/"])
def test_str_pattern_refuses_empty_and_slashes(text: str) -> None:
    assert not fullmatch(StrConverter(), text)


def test_str_to_url_stringifies() -> None:
    assert StrConverter().to_url("abc") == "abc"
    assert StrConverter().to_url(42) == "42"


@pytest.mark.parametrize("value", ["", "a/b", "/"])
def test_str_to_url_refuses_empty_or_slash(value: str) -> None:
    with pytest.raises(ValueError, match="cannot fill a str path segment"):
        StrConverter().to_url(value)


@pytest.mark.parametrize("text", ["", "a", "a/b/c", "dir/", "/lead"])
def test_path_pattern_matches_anything(text: str) -> None:
    assert fullmatch(PathConverter(), text)
    assert PathConverter().to_python(text) == text


def test_path_to_url_keeps_slashes_and_empty() -> None:
    assert PathConverter().to_url("a/b/c.txt") == "a/b/c.txt"
    assert PathConverter().to_url("") == ""
    assert PathConverter().to_url(7) == "7"


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("42", 42), ("007", 7), ("123456789012345678901", 123456789012345678901)]
)
def test_int_converts_digits(text: str, value: int) -> None:
    assert fullmatch(IntConverter(), text)
    result = IntConverter().to_python(text)
    assert result == value
    assert type(result) is int


@pytest.mark.parametrize("text", ["", "-1", "+1", "1.5", "1e3", "abc", " 1", "\u0661"])
def test_int_pattern_refuses_non_digits(text: str) -> None:
    assert not fullmatch(IntConverter(), text)


def test_int_to_url() -> None:
    assert IntConverter().to_url(0) == "0"
    assert IntConverter().to_url(15) == "15"


@pytest.mark.parametrize("value", [-1, "5", 1.0, None, True, False])
def test_int_to_url_refuses_negative_and_non_int(value: Any) -> None:
    with pytest.raises(ValueError, match="cannot fill an int path segment"):
        IntConverter().to_url(value)


@pytest.mark.parametrize(("text", "value"), [("1", 1.0), ("1.5", 1.5), ("0.25", 0.25), ("10.0", 10.0)])
def test_float_converts(text: str, value: float) -> None:
    assert fullmatch(FloatConverter(), text)
    result = FloatConverter().to_python(text)
    assert result == value
    assert type(result) is float


@pytest.mark.parametrize("text", ["", "1.", ".5", "-1.5", "1e5", "nan", "inf", "1.2.3"])
def test_float_pattern_refuses(text: str) -> None:
    assert not fullmatch(FloatConverter(), text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (2, "2.0"),
        ("3.25", "3.25"),
        (-0.0, "0.0"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
    ],
)
def test_float_to_url_round_trips_through_the_pattern(value: Any, text: str) -> None:
    converter = FloatConverter()
    assert converter.to_url(value) == text
    assert fullmatch(converter, text)
    assert converter.to_python(text) == float(value)


@pytest.mark.parametrize("value", [-1.5, -3, float("inf"), float("-inf"), float("nan")])
def test_float_to_url_refuses_what_the_pattern_cannot_match(value: float) -> None:
    with pytest.raises(ValueError, match="cannot fill a float path segment"):
        FloatConverter().to_url(value)


def test_float_to_url_refuses_non_numbers() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        FloatConverter().to_url("abc")


UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    "text",
    [
        "12345678-1234-5678-1234-567812345678",
        "12345678123456781234567812345678",
        "12345678-1234-5678-1234-567812345678".upper(),
    ],
)
def test_uuid_accepts_hyphenated_plain_and_upper(text: str) -> None:
    assert fullmatch(UUIDConverter(), text)
    assert UUIDConverter().to_python(text) == UID


@pytest.mark.parametrize(
    "text",
    ["", "12345678-1234-5678-1234-56781234567", "g2345678-1234-5678-1234-567812345678", "{" + str(UID) + "}"],
)
def test_uuid_pattern_refuses(text: str) -> None:
    assert not fullmatch(UUIDConverter(), text)


def test_uuid_to_url_normalises() -> None:
    assert UUIDConverter().to_url(UID) == str(UID)
    assert UUIDConverter().to_url(UID.hex.upper()) == str(UID)


def test_uuid_to_url_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="badly formed"):
        UUIDConverter().to_url("nope")


# --- registry ---------------------------------------------------------------------------------


class HexConverter:
    pattern = "[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)

    def to_url(self, value: int) -> str:
        return format(value, "x")


def test_register_converter_makes_it_available(monkeypatch: pytest.MonkeyPatch) -> None:
    hex_converter = HexConverter()
    monkeypatch.setitem(converters.CONVERTERS, "hex", hex_converter)  # restored after the test
    register_converter("hex", hex_converter)
    assert get_converter("hex", "/x/{n:hex}") is hex_converter


def test_register_converter_can_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(converters.CONVERTERS, "int", CONVERTERS["int"])
    replacement = HexConverter()
    register_converter("int", replacement)
    assert get_converter("int", "/") is replacement


def test_register_converter_refuses_invalid_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(HexConverter):
        pattern = "[0-9"

    before = dict(converters.CONVERTERS)
    with pytest.raises(ConfigurationError, match=r"Converter 'broken' has an invalid pattern: .*\.$"):
        register_converter("broken", Broken())
    assert before == converters.CONVERTERS
    assert "broken" not in converters.CONVERTERS


def test_get_converter_unknown_names_path_and_choices() -> None:
    with pytest.raises(ConfigurationError) as info:
        get_converter("slug", "/posts/{p:slug}")
    message = str(info.value)
    assert "'/posts/{p:slug}'" in message
    assert "'slug'" in message
    assert "float, int, path, str, uuid" in message
    assert "register_converter()" in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_builtins_satisfy_the_protocol() -> None:
    items: list[Converter] = [StrConverter(), PathConverter(), IntConverter(), FloatConverter(), UUIDConverter()]
    assert all(isinstance(c.pattern, str) for c in items)

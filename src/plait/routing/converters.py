"""Path converters: what a ``{name:kind}`` segment matches and how it becomes a value.

Register your own with :func:`register_converter`::

    class HexConverter:
        pattern = "[0-9a-f]+"
        def to_python(self, value: str) -> int: return int(value, 16)
        def to_url(self, value: int) -> str: return format(value, "x")

    register_converter("hex", HexConverter())
"""

from __future__ import annotations

import decimal
import math
import re
import uuid
from typing import Any, Protocol
from urllib.parse import quote

from plait.exceptions import ConfigurationError


class Converter(Protocol):
    """``pattern`` must match one whole segment (the ``path`` converter may span several)."""

    pattern: str

    def to_python(self, value: str) -> Any: ...
    def to_url(self, value: Any) -> str: ...


class StrConverter:
    pattern = "[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: Any) -> str:
        text = str(value)
        if not text or "/" in text:
            raise ValueError(f"{text!r} cannot fill a str path segment (it is empty or holds '/').")
        return quote(text, safe="")


class PathConverter(StrConverter):
    pattern = ".*"

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe="/")


class IntConverter:
    pattern = "[0-9]+"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{value!r} cannot fill an int path segment; pass a non-negative int.")
        return str(value)


class FloatConverter:
    pattern = r"[0-9]+(?:\.[0-9]+)?"

    def to_python(self, value: str) -> float:
        return float(value)

    def to_url(self, value: Any) -> str:
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{value!r} cannot fill a float path segment; pass a finite non-negative number.")
        text = repr(abs(number))  # abs() turns -0.0 into 0.0
        # The pattern has no exponent, so write 1e+20 as 100000000000000000000.
        return format(decimal.Decimal(text), "f") if "e" in text else text


class UUIDConverter:
    pattern = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


CONVERTERS: dict[str, Converter] = {
    "str": StrConverter(),
    "path": PathConverter(),
    "int": IntConverter(),
    "float": FloatConverter(),
    "uuid": UUIDConverter(),
}


def register_converter(name: str, converter: Converter) -> None:
    """Make ``{param:name}`` available in route paths."""
    try:
        re.compile(converter.pattern)
    except re.error as exc:
        raise ConfigurationError(f"Converter {name!r} has an invalid pattern: {exc}.") from None
    CONVERTERS[name] = converter


def get_converter(name: str, path: str) -> Converter:
    try:
        return CONVERTERS[name]
    except KeyError:
        known = ", ".join(sorted(CONVERTERS))
        raise ConfigurationError(
            f"Route {path!r} uses the unknown converter {name!r}; use one of {known} "
            "or register it with plait.routing.register_converter()."
        ) from None

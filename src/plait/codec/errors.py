"""Turning decoder failures into a complete list of :class:`ErrorDetail`.

msgspec stops at the first bad field. That is the fast path and it stays fast; only when it
fails do we walk the (already decoded) value against the type to report every bad field,
so a client fixes its request in one round trip.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import msgspec

from plait.codec.types import is_typeddict, strip_optional, unwrap_annotated
from plait.exceptions import ErrorDetail

Loc = tuple[str | int, ...]
_PATH = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def parse_message(message: str) -> tuple[str, Loc]:
    """Split msgspec's ``"Expected `int`, got `str` - at `$.a[2]`"`` into text and location."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return message, ()
    loc: list[str | int] = []
    for match in _PATH.finditer(where.rstrip("`")):
        name, index = match.groups()
        if name is not None:
            loc.append(name)
        elif index is not None:
            loc.append(int(index))
    return text, tuple(loc)


def error_from_message(message: str, prefix: Loc = ()) -> ErrorDetail:
    text, loc = parse_message(message)
    missing = _MISSING.match(text)
    if missing:
        return ErrorDetail((*prefix, *loc, missing.group(1)), "Field required", "missing")
    kind = "type_error" if text.startswith("Expected `") and ", got `" in text else "value_error"
    return ErrorDetail((*prefix, *loc), text.replace("`", "'"), kind)


MAX_ERRORS = 50
"""At most this many errors are reported for one value: enough to fix a request, too few to cost much."""


def collect_errors(
    value: Any, tp: Any, prefix: Loc, *, strict: bool = True, limit: int = MAX_ERRORS
) -> list[ErrorDetail]:
    """The errors found converting the builtin ``value`` into ``tp`` (empty when it converts), at most ``limit``.

    ``value`` comes from JSON, a query string or a form, so its object keys are strings
    (``str_keys``); ``strict=False`` also lets strings stand for numbers and booleans. The walk is
    lazy and stops at the limit, so a body with a million bad items costs no more than one with fifty.
    """
    return list(itertools.islice(_errors(value, tp, prefix, strict), limit))


def _errors(value: Any, tp: Any, loc: Loc, strict: bool) -> Iterator[ErrorDetail]:
    try:
        msgspec.convert(value, tp, strict=strict, str_keys=True)
    except msgspec.ValidationError as exc:
        found = False
        for error in _walk(value, tp, loc, strict):
            found = True
            yield error
        if not found:
            yield error_from_message(str(exc), loc)


def _walk(value: Any, tp: Any, loc: Loc, strict: bool) -> Iterator[ErrorDetail]:
    inner, _ = unwrap_annotated(tp)
    inner, _ = strip_optional(inner)
    fields = _fields(inner)
    origin = get_origin(inner)
    if fields is not None and isinstance(value, dict):
        for name, (ftype, required) in fields.items():
            if name in value:
                yield from _errors(value[name], ftype, (*loc, name), strict)
            elif required:
                yield ErrorDetail((*loc, name), "Field required", "missing")
        if _forbids_unknown(inner):
            for key in value:
                if key not in fields:
                    yield ErrorDetail((*loc, key), "Unknown field; remove it or check its spelling", "extra_forbidden")
    elif origin in (list, set, frozenset) and isinstance(value, list):
        (item_type,) = get_args(inner) or (Any,)
        for index, item in enumerate(value):
            yield from _errors(item, item_type, (*loc, index), strict)
    elif origin is dict and isinstance(value, dict):
        _, value_type = get_args(inner) or (Any, Any)
        for key, item in value.items():
            yield from _errors(item, value_type, (*loc, key), strict)


def _forbids_unknown(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct) and tp.__struct_config__.forbid_unknown_fields


def _fields(tp: Any) -> dict[str, tuple[Any, bool]] | None:
    """Encoded field names with (type, required) for Structs, dataclasses and TypedDicts."""
    if not isinstance(tp, type):
        return None
    if issubclass(tp, msgspec.Struct):
        return {f.encode_name: (f.type, f.required) for f in msgspec.structs.fields(tp)}
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return {
            f.name: (
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(tp)
        }
    if is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        required: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
        return {name: (_strip_required(hint), name in required) for name, hint in hints.items()}
    return None


def _strip_required(hint: Any) -> Any:
    """``NotRequired[T]`` / ``Required[T]`` mark a TypedDict key; the value itself is a ``T``."""
    while get_origin(hint) in (typing.Required, typing.NotRequired):
        (hint,) = get_args(hint)
    return hint

"""Turning submitted form values into a form's Struct, or into messages a person can act on.

Each field is converted on its own with ``msgspec.convert(..., strict=False)`` (the rules typed
JSON bodies follow, with strings standing for numbers, booleans, dates and enums), so every bad
field is reported at once, in words fit for the page rather than for a client developer. The
HTML conventions are applied first: an unchecked checkbox sends nothing and means ``False``; an
empty input means "not given" (``None`` for an optional field, else its default, else "This field
is required."); a free list arrives one item per line or as repeated fields.

>>> import msgspec
>>> from plait.forms.fields import form_spec
>>> class Booking(msgspec.Struct, kw_only=True):
...     guests: int
...     note: str | None = None
...     vegetarian: bool = False
>>> result = convert_form(form_spec(Booking), {"guests": ["two"], "note": [""]})
>>> result.errors, result.values
({'guests': ['Enter a whole number.']}, {'guests': 'two', 'note': '', 'vegetarian': ''})
>>> convert_form(form_spec(Booking), {"guests": ["2"], "vegetarian": ["on"]}).data
Booking(guests=2, note=None, vegetarian=True)
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec

from plait.datastructures import UploadFile
from plait.forms.fields import FieldSpec, FormSpec

REQUIRED_MESSAGE = "This field is required."
CHOICE_MESSAGE = "Choose one of the listed options."
_TRUE = frozenset({"on", "true", "1", "yes", "y", "t"})
_FALSE = frozenset({"off", "false", "0", "no", "n", "f", ""})
_MINUTES = re.compile(r"(?:^|T)\d\d:\d\d$")  # what datetime-local and time inputs send without seconds
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_USE_DEFAULT: Any = object()


@dataclasses.dataclass(slots=True)
class Converted:
    """The outcome of binding: ``data`` when every field converted, the errors and the values as sent."""

    data: msgspec.Struct | None
    errors: dict[str, list[str]]
    values: dict[str, Any]
    non_field_errors: list[str] = dataclasses.field(default_factory=list)


def convert_form(spec: FormSpec, submitted: Mapping[str, Sequence[Any]]) -> Converted:
    """Convert ``submitted`` (field key -> every value sent under it) into ``spec.form``."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}
    for field in spec.fields:
        raw = list(submitted.get(field.key, ()))
        values[field.key] = shown(field, raw)
        try:
            value = convert_field(field, raw)
        except FieldError as exc:
            errors[field.key] = [str(exc)]
            continue
        if value is not _USE_DEFAULT:
            kwargs[field.name] = value
    if errors:
        return Converted(None, errors, values)
    try:
        data = spec.form(**kwargs)
    except (TypeError, ValueError) as exc:  # raised by the form's own __post_init__ checks
        return Converted(None, {}, values, [str(exc)])
    return Converted(data, {}, values)


class FieldError(ValueError):
    """One field's value was refused; the message is shown next to the field."""


def shown(field: FieldSpec, raw: list[Any]) -> Any:
    """What the page shows again after a failed submission: text as typed, never a file or a password."""
    if field.is_file or field.widget == "password":
        return [] if field.many else ""
    texts = [value for value in raw if isinstance(value, str)]
    if field.many:
        return texts
    return texts[-1] if texts else ""


def convert_field(field: FieldSpec, raw: list[Any]) -> Any:
    """The Python value of one field, ``_USE_DEFAULT``, or a :class:`FieldError` with the message."""
    if field.is_file:
        return _files(field, raw)
    if any(isinstance(value, UploadFile) for value in raw):
        raise FieldError("Enter text here, not a file.")
    if field.widget == "checkbox" and not field.many:
        return _checkbox(raw)
    if field.many:
        return _many(field, raw)
    text = raw[-1] if raw else ""  # a repeated field: the last value wins, as for JSON keys
    if field.strips:
        text = text.strip()
    if text == "":
        return _absent(field)
    return _scalar(field, text)


def _absent(field: FieldSpec) -> Any:
    if field.nullable:
        return None
    if field.has_default:
        return _USE_DEFAULT
    raise FieldError(REQUIRED_MESSAGE)


def _files(field: FieldSpec, raw: list[Any]) -> Any:
    # Browsers send an empty part for a file input left empty; Plait's parser drops it, so a text
    # value here means the form was not multipart or someone typed into a field meant for a file.
    if any(isinstance(value, str) and value for value in raw):
        raise FieldError("Choose a file to upload (the form must be sent as multipart/form-data).")
    uploads = [value for value in raw if isinstance(value, UploadFile)]
    if field.many:
        if uploads:
            return _check_count(field, uploads)
        return _absent(field)
    return uploads[-1] if uploads else _absent(field)


def _checkbox(raw: list[Any]) -> bool:
    # A page may send a hidden "false" before the checkbox itself: the last value wins.
    word = raw[-1].strip().lower() if raw else ""
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise FieldError("Choose yes or no.")


def _many(field: FieldSpec, raw: list[str]) -> Any:
    items: list[str] = []
    for value in raw:
        # A free list comes from a textarea, one item per line; choices come as repeated fields.
        lines = value.splitlines() if field.widget == "textarea" else [value]
        items.extend(line.strip() for line in lines if line.strip())
    if not items:
        return _absent(field)
    if field.chosen:
        _check_choices(field, items)
    _check_count(field, items)
    return _convert(field, field.tp, [_prepare(field, item) for item in items])


def _check_count(field: FieldSpec, items: list[Any]) -> list[Any]:
    low, high = field.constraints.get("min_length"), field.constraints.get("max_length")
    if low is not None and len(items) < low:
        raise FieldError(f"Give at least {low}.")
    if high is not None and len(items) > high:
        raise FieldError(f"Give at most {high}.")
    return items


def _scalar(field: FieldSpec, text: str) -> Any:
    if field.choices:
        _check_choices(field, [text])
    value = _convert(field, field.tp, _prepare(field, text))
    if field.widget == "email" and not _EMAIL.match(text):
        raise FieldError("Enter a valid email address.")
    if field.widget == "url":
        parts = urlsplit(text)
        # Only web addresses: a stored "javascript:" URL would run when someone later clicks it.
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise FieldError("Enter a web address starting with http:// or https://.")
    return value


def _check_choices(field: FieldSpec, items: list[str]) -> None:
    allowed = {value for value, _ in field.choices}
    if allowed and any(item not in allowed for item in items):
        raise FieldError(CHOICE_MESSAGE)


def _prepare(field: FieldSpec, text: str) -> str:
    # datetime-local and time inputs leave the seconds out unless asked for them.
    if field.base in (datetime.datetime, datetime.time) and _MINUTES.search(text):
        return text + ":00"
    return text


def _convert(field: FieldSpec, tp: Any, raw: Any) -> Any:
    try:
        return msgspec.convert(raw, tp, strict=False)
    except msgspec.ValidationError as exc:
        raise FieldError(humanize(str(exc), field)) from None


_BOUND = re.compile(r"(>=|<=|>|<) (-?[\d.e+]+)$")
_LENGTH = re.compile(r"of length (>=|<=) (\d+)")
_TYPE_WORDS = {
    int: "Enter a whole number.",
    float: "Enter a number.",
    datetime.date: "Enter a valid date.",
    datetime.datetime: "Enter a valid date and time.",
    datetime.time: "Enter a valid time.",
}
_BOUND_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}


def humanize(message: str, field: FieldSpec) -> str:
    """msgspec's message for ``field`` in words for the person filling the form.

    >>> from plait.forms.fields import form_spec
    >>> class Pick(msgspec.Struct):
    ...     n: int
    >>> humanize("Expected `int` >= 1 - at `$[0]`", form_spec(Pick).fields[0])
    'Enter a value of at least 1.'
    """
    text = message.partition(" - at `")[0]
    length = _LENGTH.search(text)
    if length:
        unit = "characters" if not field.many else "items"
        return f"Use {_BOUND_WORDS[length.group(1)]} {length.group(2)} {unit}."
    bound = _BOUND.search(text)
    if bound:
        return f"Enter a value of {_BOUND_WORDS[bound.group(1)]} {bound.group(2)}."
    if "multiple of" in text:
        return f"Enter a multiple of {text.rsplit(' ', 1)[-1]}."
    if "matching regex" in text:
        return "Enter a value in the requested format."
    if "enum value" in text or field.chosen:
        return CHOICE_MESSAGE
    if field.base in _TYPE_WORDS:
        return _TYPE_WORDS[field.base]
    if "decimal" in text.lower():
        return _TYPE_WORDS[float]
    if "UUID" in text:
        return "Enter a valid UUID."
    return text.replace("`", "'").rstrip(".") + "."

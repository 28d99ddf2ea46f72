"""Typed settings with safe defaults, read from ``PLAIT_`` environment variables and ``.env``.

Declare your own by subclassing :class:`Settings`::

    class MySettings(Settings):
        database_url: str = "sqlite+aiosqlite:///app.db"

    settings = load_settings(MySettings)   # PLAIT_DATABASE_URL overrides the default

Each value comes from the environment first, then the ``.env`` file (when there is one), then
the class default. Lists, dicts and nested structs are written as JSON::

    PLAIT_MAX_BODY_SIZE=1048576
    PLAIT_DEBUG=true
    PLAIT_ALLOWED_HOSTS='["example.com", "www.example.com"]'

Every bad or missing variable is reported at once, in one
:class:`~plait.exceptions.ConfigurationError`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import decimal
import enum
import os
import re
import types
import typing
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

import msgspec

from plait.exceptions import ConfigurationError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="msgspec.Struct | DataclassInstance")

MIB = 1024 * 1024


class Settings(msgspec.Struct, kw_only=True):
    """Plait's own settings. Each limit is a setting with a safe default."""

    debug: bool = False
    """Show tracebacks in error pages. Never turn this on in production."""
    secret_key: str = ""
    """Signs sessions and tokens. ``plait serve`` refuses to start without one."""
    secret_key_fallbacks: list[str] = []
    """Older secret keys, still accepted when verifying (never used to sign): rotate by moving the old
    ``secret_key`` here, as a JSON list: ``PLAIT_SECRET_KEY_FALLBACKS='["old-key"]'``."""
    max_body_size: int = 16 * MIB
    """Largest request body, in bytes (413 beyond it)."""
    max_json_depth: int = 64
    """Deepest nesting of arrays/objects accepted in a JSON body (400 beyond it)."""
    max_form_fields: int = 1000
    """Most non-file fields in one form (413 beyond it)."""
    max_form_files: int = 100
    """Most files in one multipart form (413 beyond it)."""
    max_part_size: int = 1 * MIB
    """Largest non-file multipart field, in bytes (413 beyond it)."""
    max_query_params: int = 1000
    """Most parameters in one query string (400 beyond it)."""
    max_query_string_size: int = 64 * 1024
    """Longest query string, in bytes as sent (414 beyond it)."""
    max_header_size: int = 64 * 1024
    """Largest total of request header names and values, in bytes (431 beyond it).

    ``plait serve`` and ``plait run`` give the server a matching limit where it has one."""
    upload_spool_size: int = 1 * MIB
    """Uploaded files larger than this are spooled to a temporary file on disk."""
    thread_pool_size: int = 40
    """Threads available to sync handlers and providers."""
    websocket_max_message_size: int = 1 * MIB
    """Largest WebSocket message accepted, in bytes (the connection closes with 1009 beyond it)."""
    redirect_slashes: bool = True
    """Redirect ``/path/`` to ``/path`` (or back) when only the other one is routed."""

    def __post_init__(self) -> None:
        for name in ("max_query_params", "max_query_string_size", "max_header_size"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"Settings.{name} must be at least 1, got {getattr(self, name)}; "
                    f"set PLAIT_{name.upper()} to a positive number, or unset it for the default"
                )


_BOOL_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INLINE_COMMENT = re.compile(r"\s#")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
# msgspec messages that only restate the expected type; anything else (a constraint, a path) is kept.
_PLAIN_MISMATCH = re.compile(r"Expected `[^`]*`, got `[^`]*`|Invalid enum value .*")
_SCALARS: dict[Any, str] = {
    bool: "a boolean (true/false, yes/no, on/off or 1/0)",
    int: "an integer",
    float: "a number",
    str: "a string",
    bytes: "a base64-encoded string",
    type(None): "null",
    datetime.datetime: "an ISO 8601 date and time, such as 2025-01-31T12:00:00Z",
    datetime.date: "an ISO 8601 date, such as 2025-01-31",
    datetime.time: "an ISO 8601 time, such as 12:00:00",
    datetime.timedelta: "an ISO 8601 duration, such as PT30S",
    decimal.Decimal: "a decimal number",
    uuid.UUID: "a UUID",
}
_JSON_ARRAY = 'a JSON array, such as ["a", "b"]'
_JSON_OBJECT = 'a JSON object, such as {"key": "value"}'


class _Field(NamedTuple):
    name: str
    type: Any
    required: bool


class _Source(NamedTuple):
    value: str
    origin: str


class _BadValue(Exception):
    """A raw string that does not convert to its field's type; ``args[0]`` says why."""


@overload
def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = ".env",
    prefix: str = "PLAIT_",
) -> Settings: ...
@overload
def load_settings(
    cls: type[S],
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = ".env",
    prefix: str = "PLAIT_",
) -> S: ...
def load_settings(
    cls: type[Any] = Settings,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = ".env",
    prefix: str = "PLAIT_",
) -> Any:
    """Build ``cls`` from ``PLAIT_`` variables: the environment first, then ``env_file``, then defaults.

    ``cls`` is :class:`Settings`, a subclass of it, or any ``msgspec.Struct`` or dataclass.
    ``PLAIT_MAX_BODY_SIZE`` fills ``max_body_size`` (the part after the prefix is not
    case-sensitive). Lists, dicts and nested structs are written as JSON. A missing
    ``env_file`` is fine; pass ``env_file=None`` to skip it. Every bad or missing variable is
    reported in one :class:`~plait.exceptions.ConfigurationError`.
    """
    fields = _fields_of(cls)
    sources = _collect(environ if environ is not None else os.environ, env_file, prefix)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in fields:
        var = f"{prefix}{field.name.upper()}"
        source = sources.get(field.name.lower())
        if source is None:
            if field.required:
                problems.append(f"{var} is not set and {cls.__name__}.{field.name} has no default; set it")
            continue
        try:
            values[field.name] = _convert(source.value, field.type)
        except _BadValue as exc:
            problems.append(f"{var}={source.value!r} (from {source.origin}): {exc.args[0]}")
    if problems:
        raise ConfigurationError(_report(cls, problems, env_file))
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{cls.__name__} refused the settings read from {_where(env_file)}: {exc}. "
            f"Fix the {prefix} variables this names, {_where(env_file)}."
        ) from exc


def _fields_of(cls: type[Any]) -> list[_Field]:
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return [_Field(f.name, f.type, f.required) for f in msgspec.structs.fields(cls)]
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        return [
            _Field(
                f.name,
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
            if f.init
        ]
    raise ConfigurationError(
        f"load_settings() needs a settings class, got {cls!r}. Pass plait.settings.Settings, "
        "a subclass of it, or another msgspec.Struct or dataclass type."
    )


def _collect(environ: Mapping[str, str], env_file: str | os.PathLike[str] | None, prefix: str) -> dict[str, _Source]:
    """Prefixed variables keyed by the lower-cased rest of their name; the environment wins."""
    found: dict[str, _Source] = {}
    layers: list[tuple[Mapping[str, str], str]] = []
    if env_file is not None:
        layers.append((read_env_file(env_file), os.fspath(env_file)))
    layers.append((environ, "the environment"))
    for variables, origin in layers:
        for key, value in variables.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                found[key[len(prefix) :].lower()] = _Source(value, origin)
    return found


def _convert(raw: str, tp: Any) -> Any:
    """Turn one raw string into ``tp``: directly when the type takes a string, else as JSON."""
    base = _strip_annotated(tp)
    text = raw
    if base is bool or (_is_union(base) and bool in typing.get_args(base)):
        text = _BOOL_WORDS.get(raw.strip().lower(), raw)
    try:
        return msgspec.convert(text, tp, strict=False)
    except msgspec.ValidationError as exc:
        error = exc
    try:
        decoded = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        decoded = msgspec.UNSET
    if decoded is not msgspec.UNSET:
        try:
            return msgspec.convert(decoded, tp, strict=False)
        except msgspec.ValidationError as exc:
            error = exc
    reason = f"expected {_describe(tp)}"
    detail = str(error)
    if not _PLAIN_MISMATCH.fullmatch(detail):
        reason += f" ({detail})"
    raise _BadValue(reason)


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _describe(tp: Any) -> str:
    """A short phrase naming what a variable of type ``tp`` must hold: ``"an integer"``."""
    tp = _strip_annotated(tp)
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin = typing.get_origin(tp)
    if _is_union(tp):
        return " or ".join(_describe(arg) for arg in typing.get_args(tp))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in tp)
    container = origin if origin is not None else tp
    if container in (list, tuple, set, frozenset) or container in (
        collections.abc.Sequence,
        collections.abc.Set,
        collections.abc.MutableSequence,
        collections.abc.MutableSet,
    ):
        return _JSON_ARRAY
    if isinstance(container, type) and (
        issubclass(container, (dict, msgspec.Struct, collections.abc.Mapping))
        or dataclasses.is_dataclass(container)
        or typing.is_typeddict(container)
    ):
        return _JSON_OBJECT
    return f"a value of type {getattr(tp, '__name__', repr(tp))}"


def _where(env_file: str | os.PathLike[str] | None) -> str:
    return "the environment" if env_file is None else f"the environment or {os.fspath(env_file)}"


def _report(cls: type[Any], problems: list[str], env_file: str | os.PathLike[str] | None) -> str:
    count = "1 setting is" if len(problems) == 1 else f"{len(problems)} settings are"
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        f"Cannot load {cls.__name__}: {count} wrong.\n{lines}\n"
        f"Fix each variable above in {_where(env_file)}: give it a value of the expected kind "
        "(lists, dicts and nested settings are written as JSON), or unset it to use its default."
    )


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a ``.env`` file into a dict; a file that does not exist gives ``{}``.

    Understands ``KEY=value``, ``export KEY=value``, blank lines, ``#`` comments, ``'single'``
    (literal) and ``"double"`` quoted values (with ``\\n``, ``\\t``, ``\\"`` and ``\\\\``
    escapes), and `` # comments`` after unquoted values.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"Cannot read the settings file {os.fspath(path)}: {exc}. Make it a readable UTF-8 "
            "text file, or pass env_file=None to load_settings() to skip it."
        ) from exc
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = _parse_line(line)
        except _BadValue as exc:
            raise ConfigurationError(
                f"{os.fspath(path)}, line {number}: {exc.args[0]}. Each line must read KEY=value "
                "(optionally quoted, optionally preceded by 'export'), or be blank, or be a # comment."
            ) from None
        if entry is not None:
            values[entry[0]] = entry[1]
    return values


def _parse_line(line: str) -> tuple[str, str] | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("export") and stripped[6:7] in (" ", "\t"):
        stripped = stripped[7:].lstrip()
    key, sep, rest = stripped.partition("=")
    key = key.strip()
    if not sep:
        raise _BadValue(f"{stripped!r} has no '='")
    if not _KEY.fullmatch(key):
        raise _BadValue(f"{key!r} is not a valid variable name (use letters, digits and '_')")
    rest = rest.lstrip()
    if rest[:1] in ("'", '"'):
        return key, _parse_quoted(rest)
    match = _INLINE_COMMENT.search(rest)
    value = rest[: match.start()] if match else rest
    return key, value.rstrip()


def _parse_quoted(rest: str) -> str:
    """Parse a quoted value; only whitespace and a ``#`` comment may follow the closing quote."""
    quote, index = rest[0], 1
    chars: list[str] = []
    while index < len(rest):
        char = rest[index]
        if char == quote:
            tail = rest[index + 1 :].strip()
            if tail and not tail.startswith("#"):
                raise _BadValue(f"unexpected text {tail!r} after the closing {quote}")
            return "".join(chars)
        if char == "\\" and quote == '"' and index + 1 < len(rest):
            escaped = rest[index + 1]
            chars.append(_ESCAPES.get(escaped, "\\" + escaped))
            index += 2
            continue
        chars.append(char)
        index += 1
    raise _BadValue(f"the {quote} quote is never closed (write line breaks in a double-quoted value as \\n)")

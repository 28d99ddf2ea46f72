"""Markers that say where a parameter comes from and what it must satisfy.

Use them in ``Annotated`` (preferred, reusable) or as the default value::

    @app.get("/items")
    def items(page: Annotated[int, Query(ge=1)] = 1, q: str | None = Query(None, max_length=50)) -> list[str]:
        ...

An Ellipsis default is the classic spelling of "required":

>>> Query(...).default is REQUIRED
True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import msgspec

from plait.exceptions import ConfigurationError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """Base marker: a default, an alternative name, constraints and documentation."""

    source: ClassVar[str] = "query"

    default: Any = REQUIRED
    alias: str | None = None
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    title: str | None = None
    description: str | None = None
    examples: list[Any] | None = None
    deprecated: bool = False
    include_in_schema: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # `Query(...)` is the classic spelling of "required": Ellipsis never reaches a handler.
        if self.default is Ellipsis:
            object.__setattr__(self, "default", REQUIRED)

    def meta(self) -> msgspec.Meta | None:
        """The constraints as a ``msgspec.Meta``, or None when there are none."""
        bounds = {
            "gt": self.gt,
            "ge": self.ge,
            "lt": self.lt,
            "le": self.le,
            "multiple_of": self.multiple_of,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "pattern": self.pattern,
        }
        given = {k: v for k, v in bounds.items() if v is not None}
        return msgspec.Meta(**given) if given else None  # type: ignore[call-overload]


def _marker(cls: type[Param]) -> Any:
    def make(default: Any = REQUIRED, **options: Any) -> Any:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(_unknown_option(cls, unknown[0], known))
        return cls(default=default, **options)

    make.__name__ = cls.__name__
    make.__doc__ = cls.__doc__
    return make


@dataclass(frozen=True, slots=True, kw_only=True)
class PathParam(Param):
    """A segment of the URL path, named in the route as ``{name}``."""

    source: ClassVar[str] = "path"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryParam(Param):
    """A query string parameter (repeatable keys fill ``list[...]`` parameters)."""

    source: ClassVar[str] = "query"


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderParam(Param):
    """A request header; ``user_agent`` reads ``User-Agent`` unless ``convert_underscores=False``."""

    source: ClassVar[str] = "header"
    convert_underscores: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieParam(Param):
    """A request cookie."""

    source: ClassVar[str] = "cookie"


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyParam(Param):
    """The JSON body (or, with several body parameters, one member of it)."""

    source: ClassVar[str] = "body"
    embed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FormParam(Param):
    """A form field, urlencoded or multipart; a Struct/dataclass annotation takes the whole form."""

    source: ClassVar[str] = "form"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileParam(Param):
    """An uploaded file from a multipart form (annotate with ``UploadFile`` or ``list[UploadFile]``)."""

    source: ClassVar[str] = "file"


# Keywords other frameworks spell differently, with the Plait spelling.
_RENAMED = {"regex": "pattern", "example": "examples", "min_items": "min_length", "max_items": "max_length"}


def _unknown_option(cls: type[Param], name: str, known: set[str]) -> str:
    marker = cls.__name__.removesuffix("Param")
    better = _RENAMED.get(name) or next(iter(difflib.get_close_matches(name, sorted(known), n=1)), None)
    hint = f"use {better}= instead" if better else f"valid options are {', '.join(sorted(known))}"
    return f"{marker}() has no option {name!r}; {hint}."


Path = _marker(PathParam)
Query = _marker(QueryParam)
Header = _marker(HeaderParam)
Cookie = _marker(CookieParam)
Body = _marker(BodyParam)
Form = _marker(FormParam)
File = _marker(FileParam)

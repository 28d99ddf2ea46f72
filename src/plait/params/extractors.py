"""Extractors: small objects made at startup that pull one parameter out of a request.

Each ``extract(request)`` returns the converted value or raises ``RequestValidationError``
holding every error it found, so the caller can merge them into one 422.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from plait.background import BackgroundTasks
from plait.codec.bodies import build_decoder, convert_value, pydantic_converter
from plait.codec.errors import error_from_message
from plait.codec.types import is_pydantic_type
from plait.datastructures import UploadFile
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError
from plait.http.headers import media_type_matches
from plait.params.markers import REQUIRED, Param
from plait.requests import Request

Loc = tuple[str | int, ...]


def received_body(request: Any) -> Any:
    """The body a request sent, for ``RequestValidationError.body``: the ``FormData`` of a parsed form,
    the parsed JSON when it parses, else the raw bytes.

    None when no body was read (a query-only request, a WebSocket). Only called on the 422 path,
    so the parse costs nothing on requests that validate.

    >>> received_body(None) is None
    True
    """
    form = getattr(request, "_form", None)
    if form is not None:
        return form
    data = getattr(request, "_body", None)
    if not data:
        return None
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return data


def _missing(loc: Loc) -> RequestValidationError:
    return RequestValidationError([ErrorDetail(loc, "Field required", "missing")])


def scalar_converter(tp: Any, loc: Loc = ()) -> Callable[[Any], Any]:
    """A converter from a string (or list of strings) into ``tp``; pydantic runs what only it can (422 at ``loc``)."""
    if is_pydantic_type(tp):
        return pydantic_converter(tp, loc)
    if tp is str:
        return _to_str
    if tp is int:
        return _to_int
    if tp is bool:
        return _to_bool

    def convert(raw: Any) -> Any:
        return msgspec.convert(raw, tp, strict=False)

    return convert


def _identity(raw: Any) -> Any:
    return raw


def _to_str(raw: Any) -> Any:
    # Path converters may already have produced a value (a UUID, say) for a `str` parameter.
    return raw if type(raw) is str else str(raw)


_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})


def _to_bool(raw: Any) -> Any:
    # The words people (and HTML checkboxes) use, as Plait's settings accept them.
    if type(raw) is str:
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return msgspec.convert(raw, bool, strict=False)


def _to_int(raw: Any) -> Any:
    # PERF: int() is several times faster than msgspec.convert for the commonest case;
    # anything it refuses (or a form msgspec would refuse) goes through msgspec for the message.
    kind = type(raw)
    if kind is int:  # an {id:int} path converter already made it one
        return raw
    if kind is str and len(raw) < 19 and raw.isascii() and raw.isdigit():
        return int(raw)
    return msgspec.convert(raw, int, strict=False)


_SOURCES: dict[str, Callable[[Request], Mapping[str, Any]]] = {
    "query": operator.attrgetter("query_params"),
    "path": operator.attrgetter("path_params"),
    "header": operator.attrgetter("headers"),
    "cookie": operator.attrgetter("cookies"),
}


class ValueExtractor:
    """One value from path, query, header or cookie, converted to its annotation."""

    __slots__ = ("convert", "declared", "default", "fresh", "key", "loc", "many", "marker", "source", "values")

    def __init__(self, source: str, key: str, tp: Any, default: Any, *, many: bool = False) -> None:
        self.source = source
        self.key = key
        self.loc: Loc = (source, key)
        self.default = default
        # A mutable default (`tags: list[str] = []`) is copied per request, so no handler changes another's.
        self.fresh = type(default) in (list, dict, set)
        self.many = many
        self.convert = scalar_converter(tp, self.loc)
        self.values: Callable[[Request], Mapping[str, Any]] = _SOURCES[source]  # bound once, not per request
        self.declared: Any = tp  # the annotation as documented (OpenAPI); set again by the analyser
        self.marker: Param | None = None

    def extract(self, request: Request) -> Any:
        values = self.values(request)
        if self.many:
            raw: Any = values.getlist(self.key) if hasattr(values, "getlist") else []
            if not raw:
                return self._absent()
        else:
            raw = values.get(self.key)
            if raw is None:
                return self._absent()
        try:
            return self.convert(raw)
        except msgspec.ValidationError as exc:
            raise RequestValidationError([error_from_message(str(exc), self.loc)]) from None

    def _absent(self) -> Any:
        if self.default is REQUIRED:
            raise _missing(self.loc)
        return self.default.copy() if self.fresh else self.default


class ModelExtractor:
    """Several query, header or cookie parameters gathered into one Struct/dataclass/pydantic model.

    A model that forbids unknown fields (pydantic ``extra="forbid"``, msgspec ``forbid_unknown_fields``)
    also receives every other key of its source, so an unknown key is a 422 naming it.
    """

    __slots__ = ("declared", "fields", "forbid_extra", "keys", "marker", "source", "tp", "values")

    def __init__(self, source: str, tp: Any, fields: Mapping[str, bool], *, forbid_extra: bool = False) -> None:
        self.source = source
        self.tp = tp
        self.fields = dict(fields)  # name -> takes a list
        self.forbid_extra = forbid_extra
        # Request key -> (field name, takes a list), worked out once: headers spell `x_token` as `x-token`.
        self.keys = {(n.replace("_", "-") if source == "header" else n): (n, many) for n, many in self.fields.items()}
        self.values: Callable[[Request], Mapping[str, Any]] = _SOURCES[source]
        self.declared: Any = tp
        self.marker: Param | None = None

    def extract(self, request: Request) -> Any:
        values: Any = self.values(request)
        data: dict[str, Any] = {}
        for key, (name, many) in self.keys.items():
            if key not in values:
                continue
            data[name] = values.getlist(key) if many and hasattr(values, "getlist") else values[key]
        if self.forbid_extra:
            data.update((key, values[key]) for key in values if key not in self.keys)
        return convert_value(data, self.tp, (self.source,))


class RequestExtractor:
    """The ``Request`` (or ``WebSocket``) itself."""

    __slots__ = ()

    def extract(self, request: Request) -> Any:
        return request


class BackgroundExtractor:
    """The request's ``BackgroundTasks``, made on first use; the endpoint runs them after the response."""

    __slots__ = ()

    def extract(self, request: Request) -> Any:
        tasks = request.scope.get("plait.background")
        if tasks is None:
            tasks = request.scope["plait.background"] = BackgroundTasks()
        return tasks


class BodyExtractor:
    """The JSON body decoded straight into the annotated type."""

    __slots__ = ("decode", "default", "tp")

    def __init__(self, tp: Any, default: Any, max_depth: int) -> None:
        self.tp = tp
        self.default = default
        self.decode = build_decoder(tp, max_depth)

    async def extract(self, request: Request) -> Any:
        data = await request.body()
        if not data:
            if self.default is REQUIRED:
                raise _missing(("body",))
            return self.default
        content_type = request.headers.get("content-type")
        if not media_type_matches(content_type, "application/json"):
            raise HTTPException(
                415,
                f"Expected a JSON body (Content-Type: application/json), got {content_type or 'no Content-Type'}.",
            )
        return self.decode(data)


class FormFieldExtractor:
    """One form field or uploaded file (or all values of a repeated one)."""

    __slots__ = ("convert", "declared", "default", "is_file", "key", "loc", "many", "marker", "read")

    def __init__(self, key: str, tp: Any, default: Any, *, many: bool, is_file: bool, read: bool = False) -> None:
        self.key = key
        self.loc: Loc = ("body", key)
        self.default = default
        self.many = many
        self.is_file = is_file
        self.read = read  # `File()` on bytes: the handler receives the content, not the UploadFile
        self.convert = _identity if is_file else scalar_converter(tp, self.loc)
        self.declared: Any = tp
        self.marker: Param | None = None

    async def extract(self, request: Request) -> Any:
        form = await request.form()
        values = form.getlist(self.key)
        if not values:
            if self.default is REQUIRED:
                raise _missing(self.loc)
            return self.default
        if self.is_file and not all(isinstance(v, UploadFile) for v in values):
            raise RequestValidationError([ErrorDetail(self.loc, "Expected an uploaded file", "file_expected")])
        if not self.is_file and any(isinstance(v, UploadFile) for v in values):
            raise RequestValidationError([ErrorDetail(self.loc, "Expected a text field, got a file", "type_error")])
        if self.read:
            contents = [await upload.read() for upload in values]  # type: ignore[union-attr]
            return contents if self.many else contents[-1]
        try:
            return self.convert(values if self.many else values[-1])
        except msgspec.ValidationError as exc:
            raise RequestValidationError([error_from_message(str(exc), self.loc)]) from None


class FormModelExtractor:
    """The whole form converted into one Struct/dataclass/pydantic model.

    As for :class:`ModelExtractor`, a model that forbids unknown fields also receives the form's
    other fields, so an unexpected one is a 422 naming it rather than silently dropped.
    """

    __slots__ = ("declared", "fields", "forbid_extra", "marker", "tp")

    def __init__(self, tp: Any, fields: Mapping[str, bool], *, forbid_extra: bool = False) -> None:
        self.tp = tp
        self.fields = dict(fields)
        self.forbid_extra = forbid_extra
        self.declared: Any = tp
        self.marker: Param | None = None

    async def extract(self, request: Request) -> Any:
        form = await request.form()
        data: dict[str, Any] = {}
        for name, many in self.fields.items():
            found = form.getlist(name)
            if found:
                data[name] = found if many else found[-1]
        if self.forbid_extra:
            data.update((key, form[key]) for key in form if key not in self.fields)
        return convert_value(data, self.tp, ("body",))

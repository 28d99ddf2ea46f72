"""What a handler returns, turned into a response, for routes that need more than JSON or text.

Everything here is decided once per route at startup (:func:`compile_result`); a route that uses
none of these features gets no :class:`Shaper` and keeps the endpoint's fast paths.

- ``response_model=`` validates and filters the result (see :mod:`plait.response_model`);
- ``response_class=`` shapes it: a ``str`` returned to a ``RedirectResponse`` route is the target
  (307 unless ``status_code=`` says otherwise), a path returned to ``FileResponse`` is the file, a
  generator returned to ``EventSourceResponse`` is the event stream, ``HTMLResponse`` and
  ``PlainTextResponse`` wrap a string;
- a generator handler (sync or async) streams its items: JSON lines (``application/jsonl``) for
  objects, text for ``str``/``bytes`` items, the ``response_class``'s media type when given;
- Flask's ``(body, status)``, ``(body, headers)`` and ``(body, status, headers)`` tuples;
- the ``response: Response`` parameter, whose headers, cookies and status are merged in.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import anyio.to_thread
import msgspec

from plait._types import Receive, Scope, Send
from plait.codec.bodies import Encoder, build_encoder
from plait.codec.types import strip_optional, unwrap_annotated
from plait.di.plan import CallKind, CallPlan, Dependency
from plait.params.response import SCOPE_KEY, UNSET_STATUS, ResponseExtractor
from plait.response_model import ResponseValidationError, model_encoder
from plait.responses import (
    EventSourceResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

JSONL = "application/jsonl"
NO_BODY = frozenset({204, 304})
_DONE = object()
ITERATOR_TYPES = frozenset(
    {
        collections.abc.Iterator,
        collections.abc.Iterable,
        collections.abc.Generator,
        collections.abc.AsyncIterator,
        collections.abc.AsyncIterable,
        collections.abc.AsyncGenerator,
    }
)
"""Annotations of a generator handler's result (``-> Iterator[Item]``); its items are streamed."""
_OPEN = (Any, object, None)  # annotations that say nothing about the value


@dataclass(frozen=True, slots=True)
class ResultSpec:
    """What the endpoint needs to send one route's results, decided at startup."""

    encode: Encoder
    text: bool  # the declared result is str: sent as text/plain
    tuples: bool  # a tuple result may be Flask's (body, status[, headers])
    shaper: Shaper | None  # set when some results need more than the endpoint's fast paths
    always: bool  # every result goes through the shaper (not just tuples and Responses)


def compile_result(plan: CallPlan, options: Mapping[str, Any], guards: list[Dependency]) -> ResultSpec:
    """Decide how the route's results are sent (see the module documentation)."""
    streams = plan.kind in (CallKind.ASYNC_GEN, CallKind.SYNC_GEN)
    annotation = plan.return_type
    flask, body_type = _flask_annotation(annotation)
    tuples = not streams and (flask or _may_be_tuple(annotation))
    declared = _item_type(annotation) if streams else body_type
    has_model = "response_model" in options
    if has_model:
        declared = options["response_model"]
        encode = model_encoder(plan.name, declared, options)
    else:
        encode = build_encoder(None if _is_response_type(declared) else declared)
    text = unwrap_annotated(declared)[0] is str
    response_class: type[Response] | None = options.get("response_class")
    merge = _uses_response(plan) or any(_uses_response(g.plan) for g in guards)
    always = streams or has_model or merge or response_class is not None
    if not always and not tuples:
        return ResultSpec(encode, text, False, None, False)
    status = options.get("status_code", 200)
    if response_class is not None and issubclass(response_class, RedirectResponse) and "status_code" not in options:
        status = 307  # as FastAPI: a temporary redirect that keeps the method
    shaper = Shaper(plan.name, status, response_class, encode, text=text, validates=has_model, merge=merge)
    if streams:
        shaper.stream = _Stream(plan.kind is CallKind.ASYNC_GEN, response_class, encode, _media_type(declared))
    shaper.strict = flask
    return ResultSpec(encode, text, tuples, shaper, always)


def documented_type(plan: CallPlan, options: Mapping[str, Any]) -> Any:
    """The type a route's response body holds, for the OpenAPI document.

    ``response_model=`` when given (for a generator: the type of each item); else the return
    annotation, with ``Iterator[Item]`` read as ``Item`` and Flask's ``tuple[Body, int]`` as ``Body``.

    >>> from plait.di.plan import compile_plan
    >>> def pair() -> tuple[str, int]: ...
    >>> documented_type(compile_plan(pair), {})
    <class 'str'>
    """
    if "response_model" in options:
        return options["response_model"]
    if plan.kind in (CallKind.ASYNC_GEN, CallKind.SYNC_GEN):
        return _item_type(plan.return_type)
    return _flask_annotation(plan.return_type)[1]


class Shaper:
    """Builds and sends the response for one result of one route."""

    __slots__ = ("encode", "merge", "name", "response_class", "status_code", "stream", "strict", "text", "validates")

    def __init__(
        self,
        name: str,
        status_code: int,
        response_class: type[Response] | None,
        encode: Encoder,
        *,
        text: bool,
        validates: bool,
        merge: bool,
    ) -> None:
        self.name = name
        self.status_code = status_code
        self.response_class = response_class
        self.encode = encode
        self.text = text
        self.validates = validates
        self.merge = merge
        self.stream: _Stream | None = None
        self.strict = False  # the annotation promises a Flask tuple: anything else is a handler bug

    async def respond(self, scope: Scope, receive: Receive, send: Send, result: Any) -> None:
        response = await self.build(scope, result)
        await response(scope, receive, send)

    async def build(self, scope: Scope, result: Any) -> Response:
        status: int | None = None
        headers: list[tuple[str, str]] = []
        if type(result) is tuple:
            flask = _flask_tuple(result)
            if flask is not None:
                result, status, headers = flask
            elif self.strict:
                raise ResponseValidationError(
                    f"{self.name} returned a tuple of {len(result)} items, but its return annotation promises "
                    "(body, status) or (body, status, headers); return one of those shapes."
                )
        temporary: Response | None = scope.get(SCOPE_KEY) if self.merge else None
        if status is None and temporary is not None and temporary.status_code != UNSET_STATUS:
            status = temporary.status_code if not isinstance(result, Response) else None
        response = await self._response(result, status)
        for key, value in headers:
            response.headers[key] = value
        if temporary is not None:
            _merge(response, temporary, own=response is result)
        return response

    async def _response(self, result: Any, status: int | None) -> Response:
        if isinstance(result, Response):
            if status is not None:
                result.status_code = status
            return result
        status = self.status_code if status is None else status
        if self.stream is not None:
            return await self.stream.response(result, status)
        cls = self.response_class
        if cls is not None:
            return self._wrap(cls, result, status)
        if status in NO_BODY:
            return Response(status_code=status)
        if self.text or (type(result) is str and not self.validates):
            return Response(str(result).encode("utf-8"), status, media_type="text/plain")
        return Response(self.encode(result), status, media_type="application/json")

    def _wrap(self, cls: type[Response], result: Any, status: int) -> Response:
        if issubclass(cls, RedirectResponse):
            return cls(str(result), status_code=status)
        if issubclass(cls, JSONResponse):
            if cls is JSONResponse:  # PERF: the route's own encoder, no second pass
                return Response(self.encode(result), status, media_type=cls.media_type)
            return cls(msgspec.json.decode(self.encode(result)), status_code=status)
        # FileResponse takes the path, EventSourceResponse and StreamingResponse the iterable,
        # HTMLResponse and PlainTextResponse the text: all of them as their first argument.
        return cls(result, status_code=status)


class _Stream:
    """How a generator handler's items are sent."""

    __slots__ = ("encode", "is_async", "media_type", "response_class")

    def __init__(self, is_async: bool, cls: type[Response] | None, encode: Encoder, media_type: str | None) -> None:
        self.is_async = is_async
        self.response_class = cls
        self.encode = encode
        # The route's class decides the media type; else the annotation; else the first item (None).
        self.media_type = (cls.media_type if cls is not None else None) or media_type

    async def response(self, gen: Any, status: int) -> Response:
        cls = self.response_class
        if cls is not None and issubclass(cls, EventSourceResponse):
            return cls(gen, status_code=status)
        # The first item is taken before the headers go out, so an error raised before the first yield
        # (a 404, a validation failure) becomes a proper error response, and headers set on the
        # response parameter until then are sent. Unannotated, it also says what the stream holds.
        first = await anext(gen, _DONE) if self.is_async else await anyio.to_thread.run_sync(next, gen, _DONE)
        media_type = self.media_type
        if media_type is None:
            media_type = "text/plain" if isinstance(first, str | bytes) else JSONL
        lines = media_type == JSONL
        if self.is_async:
            chunks: Any = _async_chunks(gen, first, self.encode, lines)
        else:
            chunks = _sync_chunks(gen, first, self.encode, lines)
        stream_class = cls if cls is not None and issubclass(cls, StreamingResponse) else StreamingResponse
        return stream_class(chunks, status_code=status, media_type=media_type)


def _chunk(item: Any, encode: Encoder, lines: bool) -> bytes | str:
    if not lines and isinstance(item, str | bytes):
        return item
    return encode(item) + b"\n"


async def _async_chunks(gen: Any, first: Any, encode: Encoder, lines: bool) -> AsyncIterator[bytes | str]:
    try:
        if first is not _DONE:
            yield _chunk(first, encode, lines)
        async for item in gen:
            yield _chunk(item, encode, lines)
    finally:
        await gen.aclose()  # the handler's finally blocks run when the client leaves, too


def _sync_chunks(gen: Any, first: Any, encode: Encoder, lines: bool) -> Iterator[bytes | str]:
    # A sync generator: StreamingResponse advances this one in a worker thread, items and encoding alike.
    try:
        if first is not _DONE:
            yield _chunk(first, encode, lines)
        for item in gen:
            yield _chunk(item, encode, lines)
    finally:
        gen.close()


def _merge(response: Response, temporary: Response, *, own: bool) -> None:
    """Copy the ``response: Response`` parameter's headers and cookies into the real response.

    Cookies are always added. Other headers replace the real response's, unless the handler
    returned that response itself (``own``): then its explicit headers win.
    """
    headers = response.headers
    for raw_key, raw_value in temporary.headers.raw:
        key, value = raw_key.decode("latin-1"), raw_value.decode("latin-1")
        if key == "set-cookie":
            headers.append(key, value)
        elif not own or key not in headers:
            headers[key] = value


def _flask_tuple(value: tuple[Any, ...]) -> tuple[Any, int | None, list[tuple[str, str]]] | None:
    """``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``; None for any other tuple."""
    if len(value) == 2:
        body, second = value
        if _is_status(second):
            return body, int(second), []
        pairs = _header_pairs(second)
        return None if pairs is None else (body, None, pairs)
    if len(value) == 3 and _is_status(value[1]):
        pairs = _header_pairs(value[2])
        return None if pairs is None else (value[0], int(value[1]), pairs)
    return None


def _is_status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def _header_pairs(value: Any) -> list[tuple[str, str]] | None:
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list) and value and all(isinstance(p, tuple | list) and len(p) == 2 for p in value):
        items = [tuple(p) for p in value]
    else:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in items):
        return None
    return [(k, v) for k, v in items]


def _flask_annotation(annotation: Any) -> tuple[bool, Any]:
    """(annotated as a Flask tuple, the body's type): ``tuple[Item, int]`` -> (True, Item)."""
    base, _ = unwrap_annotated(annotation)
    args = get_args(base)
    # tuple[int, int] and the like stay JSON arrays: a number first is more likely a pair than a body.
    if get_origin(base) is tuple and len(args) in (2, 3) and args[1] is int and args[0] not in (int, float):
        return True, args[0]
    return False, annotation


def _may_be_tuple(annotation: Any) -> bool:
    """False when the return annotation rules a tuple out, so the endpoint need not check for one."""
    base, _ = unwrap_annotated(annotation)
    if base in _OPEN or base is tuple:
        return True
    if get_origin(base) in (typing.Union, types.UnionType):
        return any(_may_be_tuple(arg) for arg in get_args(base))
    return False


def _item_type(annotation: Any) -> Any:
    """``Iterator[Item]`` / ``AsyncGenerator[Item, None]`` -> Item; None when not said."""
    base, _ = unwrap_annotated(annotation)
    if get_origin(base) in ITERATOR_TYPES and get_args(base):
        return get_args(base)[0]
    return None


def _media_type(item: Any) -> str | None:
    base, _ = strip_optional(unwrap_annotated(item)[0])
    if base in _OPEN:
        return None
    return "text/plain" if base in (str, bytes) else JSONL


def _uses_response(plan: CallPlan) -> bool:
    if any(isinstance(ex, ResponseExtractor) for _, ex in plan.sync_params):
        return True
    return any(_uses_response(dep.plan) for dep in plan.dependencies)


def _is_response_type(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return inspect.isclass(origin) and issubclass(origin, Response)

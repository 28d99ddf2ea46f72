"""The responses of an operation: what a route answers on success, the errors it can give, and declared extras.

The success response follows what the route really sends: ``response_model=`` over the return
annotation, the ``response_class`` (HTML and text as strings, files as binary, redirects with no
body), generators as streams (JSON lines, text, or server-sent events), and no body for 204/304.

>>> from plait.app import Plait
>>> from plait.openapi import build_openapi
>>> from plait.responses import RedirectResponse
>>> app = Plait()
>>> @app.get("/old", response_class=RedirectResponse)
... def old() -> str:
...     return "/new"
>>> build_openapi(app)["paths"]["/old"]["get"]["responses"]
{'307': {'description': 'Successful Response'}}
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from plait.codec.types import is_union, unwrap_annotated
from plait.openapi.schema import SchemaRegistry
from plait.responses import EventSourceResponse, FileResponse, RedirectResponse, Response
from plait.results import ITERATOR_TYPES, JSONL

if TYPE_CHECKING:
    from plait.app import CompiledRoute

__all__ = ["DEFAULT_DESCRIPTION", "ResponseBuilder"]

JSON = dict[str, Any]
DEFAULT_DESCRIPTION = "Successful Response"
"""The description of a success response when the route gives no ``response_description``."""

_NO_BODY = frozenset({204, 304})
_JSON_MEDIA = "application/json"
_PROBLEM_MEDIA = "application/problem+json"
_STRING: JSON = {"type": "string"}
_BINARY: JSON = {"type": "string", "format": "binary"}


class ResponseBuilder:
    """Builds the ``responses`` of each operation, sharing one schema registry with the rest of the document."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    def responses(self, route: CompiledRoute, reads: str | None, validates: bool) -> JSON:
        """Every response of ``route``.

        ``reads`` names the body the route reads (``"JSON"``, ``"form"`` or None); ``validates`` is
        whether it reads any input at all (and so can answer 422).
        """
        options = route.placed.route.options
        # response_model=None is kept: it means "describe no schema", unlike a missing option.
        declared = options.get("response_model", route.plan.return_type)
        response_class: type[Response] | None = options.get("response_class")
        data, classes = _split_responses(declared)
        redirect = _is_redirect(response_class) or (data is None and any(_is_redirect(c) for c in classes))
        status = options.get("status_code") or (307 if redirect else 200)
        success: JSON = {"description": options.get("response_description") or DEFAULT_DESCRIPTION}
        content = {} if status in _NO_BODY or redirect else self._content(route, declared, response_class)
        if content:
            success["content"] = content
        responses: dict[str, JSON] = {str(status): success}
        if data is not None and any(_is_redirect(c) for c in classes) and "307" not in responses:
            responses["307"] = {"description": _phrase(307)}
        if reads is not None:
            responses["400"] = self.problem(f"The {reads} body is malformed and could not be read.")
        if not route.template.is_static:
            responses["404"] = self.problem("Nothing is routed here: a path parameter does not match the route.")
        if validates:
            responses["422"] = self.problem("The request is invalid; every bad field is listed.", validation=True)
        for code, spec in route.placed.responses.items():  # merged: routers, include_router(), the route
            responses[str(code)] = self._declared(code, spec, responses.get(str(code)))
        return dict(sorted(responses.items()))

    def problem(self, description: str, *, validation: bool = False) -> JSON:
        schema = self.registry.problem(validation=validation)
        return {"description": description, "content": {_PROBLEM_MEDIA: {"schema": schema}}}

    # -- success ------------------------------------------------------------------------------------

    def _content(self, route: CompiledRoute, declared: Any, response_class: type[Response] | None) -> JSON:
        if _is_stream(route.placed.route.endpoint, declared):
            return self._stream(_item_type(declared), response_class)
        if response_class is not None:
            return self._class_content(response_class, declared)
        if declared is None:  # nothing declared to describe
            return {}
        data, classes = _split_responses(declared)
        content: JSON = {}
        for cls in classes:
            content.update(self._class_content(cls, None))
        if data is not None:
            if _is_text(data):
                content["text/plain"] = {"schema": dict(_STRING)}
            else:
                content[_JSON_MEDIA] = {"schema": self.registry.schema(data, "serialization")}
        return content

    def _class_content(self, cls: type[Response], declared: Any) -> JSON:
        """What a Response class sends; a JSON one is described by the data part of ``declared``."""
        if _is_redirect(cls):
            return {}
        if issubclass(cls, FileResponse):
            return {"application/octet-stream": {"schema": dict(_BINARY)}}
        media = cls.media_type
        if media is None:
            return {}
        if media == _PROBLEM_MEDIA:
            return {media: {"schema": self.registry.problem()}}
        if media.startswith("text/"):
            return {media: {"schema": dict(_STRING)}}
        data, _ = _split_responses(declared)
        if data is not None and _is_json(media):
            return {media: {"schema": self.registry.schema(data, "serialization")}}
        return {media: {}}

    def _stream(self, item: Any, response_class: type[Response] | None) -> JSON:
        """A generator handler: one media type for the whole stream, the item type where it can be said."""
        if response_class is not None and issubclass(response_class, EventSourceResponse):
            return {EventSourceResponse.media_type: {"schema": dict(_STRING)}}
        if response_class is not None and response_class.media_type is not None:
            return self._class_content(response_class, None)
        if item is not None and _is_text(item):
            return {"text/plain": {"schema": dict(_STRING)}}
        if item is not None and unwrap_annotated(item)[0] is bytes:
            return {"application/octet-stream": {"schema": dict(_BINARY)}}
        media: JSON = {"schema": dict(_STRING)}
        if item is not None:  # OpenAPI 3.1 cannot describe a sequence of documents; say what each line holds
            media["x-itemSchema"] = self.registry.schema(item, "serialization")
        return {JSONL: media}

    # -- declared responses -------------------------------------------------------------------------

    def _declared(self, code: int | str, spec: Any, existing: JSON | None) -> JSON:
        response: JSON = dict(existing) if existing is not None else {"description": _phrase(code)}
        if isinstance(spec, str):
            response["description"] = spec
            if _is_error(code) and "content" not in response:
                response["content"] = self.problem(spec)["content"]
        elif isinstance(spec, Mapping):
            self._declared_mapping(code, spec, response)
        elif _is_response_class(spec):
            content = self._class_content(spec, None)
            if content:
                response["content"] = content
        elif spec is not None:
            response["content"] = {_JSON_MEDIA: {"schema": self.registry.schema(spec, "serialization")}}
        return response

    def _declared_mapping(self, code: int | str, spec: Mapping[str, Any], response: JSON) -> None:
        """FastAPI's shape: ``{"model": Item, "description": "...", "content": {...}, "headers": {...}}``.

        Its keys were checked where the route was declared (plait.routing.options).
        """
        response.update((k, v) for k, v in spec.items() if k not in ("model", "content"))
        # Media types are added to what the route already documents (an image beside the JSON, say).
        content: JSON = {media: dict(value) for media, value in response.get("content", {}).items()}
        for media, value in spec.get("content", {}).items():
            content[media] = {**content.get(media, {}), **value}
        if spec.get("model") is not None:
            content.setdefault(_JSON_MEDIA, {})["schema"] = self.registry.schema(spec["model"], "serialization")
        if content:
            response["content"] = content


# -- helpers ----------------------------------------------------------------------------------------


def _phrase(status: int | str) -> str:
    if status == "default":
        return "Default Response"
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return f"HTTP {status}"


def _is_error(code: int | str) -> bool:
    return str(code)[:1] in ("4", "5")


def _is_response_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Response)


def _is_redirect(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, RedirectResponse)


def _split_responses(tp: Any) -> tuple[Any, list[type[Response]]]:
    """``Item | HTMLResponse`` as ``(Item, [HTMLResponse])``: the data part and the Response classes."""
    inner, _ = unwrap_annotated(tp)
    members = list(inner.__args__) if is_union(inner) else [inner]
    classes = [m for m in members if _is_response_class(m)]
    if not classes:
        return tp, []
    data = [m for m in members if not _is_response_class(m)]
    if not data:
        return None, classes
    union: Any = data[0]
    for member in data[1:]:
        union = union | member
    return union, classes


def _is_stream(endpoint: Any, declared: Any) -> bool:
    """A generator handler (its items are streamed), seen from the function or its return annotation."""
    if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
        return True
    return typing.get_origin(unwrap_annotated(declared)[0]) in ITERATOR_TYPES


def _item_type(declared: Any) -> Any:
    """``Item`` from ``Iterator[Item]`` / ``AsyncGenerator[Item, None]``; None when not declared."""
    inner, _ = unwrap_annotated(declared)
    args = typing.get_args(inner) if typing.get_origin(inner) in ITERATOR_TYPES else ()
    return args[0] if args else None


def _is_text(tp: Any) -> bool:
    return unwrap_annotated(tp)[0] is str


def _is_json(media_type: str) -> bool:
    return media_type == _JSON_MEDIA or media_type.endswith("+json")

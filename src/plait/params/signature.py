"""Deciding, once at startup, where each handler parameter comes from.

The rules, in order:

1. an explicit marker (``Query()``, ``Header()``, ``Body()``, ...) in ``Annotated`` or as the default;
2. the annotation ``Request`` (or ``WebSocket``), or ``BackgroundTasks``;
3. a name that appears in the route path (``{id}``) is a path parameter;
4. ``UploadFile`` (or a list of them) is a file from a multipart form;
5. a structured type (Struct, dataclass, TypedDict, pydantic model, or a list/dict) is the JSON body;
6. a scalar, an enum or a ``Literal`` is a query parameter; so is a list of scalars on a route whose
   methods are all GET/HEAD/DELETE/OPTIONS (repeated keys: ``?tag=a&tag=b``). On POST/PUT/PATCH an
   unmarked list is the JSON body, as FastAPI users expect; mark it ``Query()`` to read the query.

Anything else is a configuration error that names the handler and the fix.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

import msgspec

from plait.background import BackgroundTasks
from plait.codec.types import (
    describe,
    is_model_type,
    is_scalar_type,
    is_sequence_type,
    is_union,
    strip_optional,
    unwrap_annotated,
)
from plait.datastructures import UploadFile
from plait.exceptions import ConfigurationError
from plait.params.extractors import (
    BackgroundExtractor,
    FormFieldExtractor,
    FormModelExtractor,
    ModelExtractor,
    RequestExtractor,
    ValueExtractor,
)
from plait.params.markers import REQUIRED, HeaderParam, Param
from plait.params.metadata import pydantic_annotated, pydantic_metadata
from plait.params.response import ResponseExtractor
from plait.requests import HTTPConnection
from plait.responses import Response

SyncExtractor = ValueExtractor | ModelExtractor | RequestExtractor | BackgroundExtractor | ResponseExtractor
AsyncExtractor = FormFieldExtractor | FormModelExtractor


@dataclass(slots=True)
class BodyField:
    """A parameter taken from the JSON body; several of them are merged into one object."""

    name: str
    key: str
    tp: Any
    default: Any
    embed: bool
    marker: Param | None = None


@dataclass(slots=True)
class Analyzed:
    """Where one parameter comes from: exactly one of the three is set."""

    sync: SyncExtractor | None = None
    async_: AsyncExtractor | None = None
    body: BodyField | None = None


def find_marker(annotation: Any, default: Any, kind: type[Any], where: str = "a parameter") -> Any:
    """The marker of ``kind`` in ``Annotated`` metadata or the default, else None.

    More than one (``Annotated[str, Query(), Header()]``, or ``Annotated[str, Query()] = Query("x")``)
    is refused: which one should win is a guess, and a wrong guess silently drops a default or a source.
    """
    _, metadata = unwrap_annotated(annotation)
    found = [item for item in (*metadata, default) if isinstance(item, kind)]
    if len(found) > 1:
        names = " and ".join(f"{type(m).__name__.removesuffix('Param')}(...)" for m in found)
        raise ConfigurationError(
            f"{where} has {len(found)} markers ({names}); keep one, e.g. q: Annotated[str, Query(max_length=5)] "
            '= "x", or q: str = Query("x", max_length=5).'
        )
    return found[0] if found else None


def analyze(
    owner: str,
    param: inspect.Parameter,
    annotation: Any,
    path_params: frozenset[str],
    *,
    lists_from_query: bool = False,
) -> Analyzed:
    """Decide the source of one parameter of ``owner`` (a handler or provider name).

    ``lists_from_query``: the route has no body (GET, HEAD, DELETE, OPTIONS), so an unmarked list of
    scalars is a repeated query key.
    """
    base, metadata = unwrap_annotated(annotation)
    marker: Param | None = find_marker(annotation, param.default, Param, f"{owner}: parameter {param.name!r}")
    default = _default(param, marker)
    if marker is None and isinstance(base, type) and issubclass(base, HTTPConnection):
        return Analyzed(sync=RequestExtractor())
    if marker is None and base is BackgroundTasks:
        return Analyzed(sync=BackgroundExtractor())
    if marker is None and base is Response:  # exactly Response: a temporary one merged into the answer
        return Analyzed(sync=ResponseExtractor())
    source = marker.source if marker is not None else _infer_source(param.name, base, path_params, lists_from_query)
    if source is None:
        raise ConfigurationError(
            f"{owner}: parameter {param.name!r} has type {describe(base)}, which Plait cannot read from a "
            "request. Use a scalar (str, int, ...) for a query parameter, a Struct/dataclass for a JSON body, "
            "or mark it: Annotated[T, Query()], Header(), Cookie(), Body(), Form(), File() or Depends(provider)."
        )
    tp = _typed(owner, param, base, metadata, marker)
    if source == "path" and param.name not in path_params and not (marker and marker.alias in path_params):
        raise ConfigurationError(
            f"{owner}: parameter {param.name!r} is marked Path() but the route has no {{{param.name}}} segment; "
            "add it to the route path or remove the marker."
        )
    if source == "body":
        embed = bool(getattr(marker, "embed", False))
        key = marker.alias if marker is not None and marker.alias else param.name
        return Analyzed(body=BodyField(param.name, key, tp, default, embed, marker))
    if source in ("form", "file"):
        form = _form_extractor(owner, source, param.name, tp, default, marker)
        form.declared, form.marker = tp, marker
        return Analyzed(async_=form)
    value = _value_extractor(owner, source, param.name, tp, default, marker)
    if isinstance(value, ValueExtractor | ModelExtractor):
        value.declared, value.marker = tp, marker
    return Analyzed(sync=value)


def _default(param: inspect.Parameter, marker: Param | None) -> Any:
    if marker is not None and marker.default is not REQUIRED:
        return marker.default
    if param.default is inspect.Parameter.empty or param.default is Ellipsis or isinstance(param.default, Param):
        return REQUIRED  # `q: str = ...` is the classic spelling of "required"
    return param.default


def _typed(owner: str, param: inspect.Parameter, base: Any, metadata: tuple[Any, ...], marker: Param | None) -> Any:
    """The type values are converted into: msgspec constraints applied, or one pydantic-run annotation."""
    constraints = tuple(m for m in metadata if isinstance(m, msgspec.Meta))
    found = pydantic_metadata(owner, param.name, base, metadata, param.default)
    if not found:
        return _constrained(base, marker, constraints)
    meta = marker.meta() if marker is not None else None
    return pydantic_annotated(base, (*constraints, meta) if meta is not None else constraints, found)


def _constrained(base: Any, marker: Param | None, constraints: tuple[msgspec.Meta, ...] = ()) -> Any:
    """``base`` with the constraints of ``Annotated[..., msgspec.Meta(...)]`` and of the marker applied."""
    meta = marker.meta() if marker is not None else None
    metas = (*constraints, meta) if meta is not None else constraints
    if not metas:
        return base
    inner, optional = strip_optional(base)
    tp: Any = Annotated[(inner, *metas)]
    return tp | None if optional else tp


def _is_upload(tp: Any) -> tuple[bool, bool]:
    """(is a file parameter, takes many files)."""
    tp, _ = strip_optional(tp)
    if tp is UploadFile:
        return True, False
    if get_origin(tp) is list and get_args(tp) == (UploadFile,):
        return True, True
    return False, False


def _infer_source(name: str, base: Any, path_params: frozenset[str], lists_from_query: bool) -> str | None:
    if name in path_params:
        return "path"
    if _is_upload(base)[0]:
        return "file"
    if is_scalar_type(base) or (lists_from_query and is_sequence_type(base)):
        return "query"
    inner, _ = strip_optional(base)
    if is_model_type(inner) or get_origin(inner) in (list, dict, tuple, set, frozenset):
        return "body"
    if is_union(inner) and all(is_model_type(arg) for arg in get_args(inner)):
        return "body"  # a tagged union of models: Circle | Square
    return None


def _value_extractor(owner: str, source: str, name: str, tp: Any, default: Any, marker: Param | None) -> SyncExtractor:
    key = marker.alias if marker is not None and marker.alias else name
    if source == "header" and (marker is None or not marker.alias):
        convert = not isinstance(marker, HeaderParam) or marker.convert_underscores
        key = (name.replace("_", "-") if convert else name).lower()
    inner, _ = strip_optional(unwrap_annotated(tp)[0])
    if is_model_type(inner) and source in ("query", "header", "cookie"):
        return ModelExtractor(source, tp, _model_fields(tp), forbid_extra=_forbids_extra(inner))
    if is_sequence_type(tp):
        return ValueExtractor(source, key, tp, default, many=True)
    if is_scalar_type(tp):
        return ValueExtractor(source, key, _scalar_type(tp), default)
    raise ConfigurationError(
        f"{owner}: parameter {name!r} of type {describe(tp)} cannot come from the {source}; "
        "use a scalar, a list of scalars, or (for query, header and cookie) a Struct/dataclass/pydantic model."
    )


def _scalar_type(tp: Any) -> Any:
    # The converter only runs when a value is present, so `int | None` converts as `int`.
    return strip_optional(tp)[0]


def _form_extractor(owner: str, source: str, name: str, tp: Any, default: Any, marker: Param | None) -> AsyncExtractor:
    key = marker.alias if marker is not None and marker.alias else name
    is_file, many_files = _is_upload(unwrap_annotated(tp)[0])
    if is_file:
        return FormFieldExtractor(key, tp, default, many=many_files, is_file=True)
    if source == "file":
        return _bytes_extractor(owner, name, key, tp, default)
    if is_model_type(tp):
        return FormModelExtractor(tp, _model_fields(tp), forbid_extra=_forbids_extra(unwrap_annotated(tp)[0]))
    if is_sequence_type(tp):
        return FormFieldExtractor(key, tp, default, many=True, is_file=False)
    if is_scalar_type(tp):
        return FormFieldExtractor(key, _scalar_type(tp), default, many=False, is_file=False)
    raise ConfigurationError(
        f"{owner}: form parameter {name!r} of type {describe(tp)} is not supported; use str/int/..., "
        "a list of them, UploadFile, or a Struct/dataclass holding the whole form."
    )


def _bytes_extractor(owner: str, name: str, key: str, tp: Any, default: Any) -> FormFieldExtractor:
    """``File()`` on ``bytes`` / ``list[bytes]``: the uploaded content, read for the handler."""
    inner, _ = strip_optional(unwrap_annotated(tp)[0])
    if inner is bytes:
        return FormFieldExtractor(key, tp, default, many=False, is_file=True, read=True)
    if get_origin(inner) is list and get_args(inner) == (bytes,):
        return FormFieldExtractor(key, tp, default, many=True, is_file=True, read=True)
    raise ConfigurationError(
        f"{owner}: parameter {name!r} is marked File() but has type {describe(tp)}; annotate it UploadFile, "
        "bytes or list[UploadFile]/list[bytes], or use Form() for a text field."
    )


def _forbids_extra(model: Any) -> bool:
    """True when a parameter model refuses unknown keys (pydantic ``extra="forbid"``, ``forbid_unknown_fields``)."""
    if isinstance(model, type) and issubclass(model, msgspec.Struct):
        return bool(model.__struct_config__.forbid_unknown_fields)
    config = getattr(model, "model_config", None)
    return isinstance(config, dict) and config.get("extra") == "forbid"


def _model_fields(tp: Any) -> dict[str, bool]:
    """Field name -> whether it takes a list, for a parameter model."""
    base, _ = unwrap_annotated(tp)
    base, _ = strip_optional(base)
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return {f.encode_name: is_sequence_type(f.type) for f in msgspec.structs.fields(base)}
    hints = getattr(base, "model_fields", None)
    if hints is not None:  # pydantic
        return {info.alias or name: is_sequence_type(info.annotation) for name, info in hints.items()}
    import typing

    return {name: is_sequence_type(hint) for name, hint in typing.get_type_hints(base).items()}

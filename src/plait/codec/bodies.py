"""Decoders for request bodies and encoders for return values, built once per route."""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable
from typing import Any, get_args, get_origin

import msgspec

from plait.codec.depth import check_depth
from plait.codec.errors import MAX_ERRORS, collect_errors, error_from_message
from plait.codec.types import is_model_type, is_pydantic_type, static_depth, unwrap_annotated
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError

Decoder = Callable[[bytes], Any]
Encoder = Callable[[Any], bytes]
BODY: tuple[str | int, ...] = ("body",)


def build_decoder(tp: Any, max_depth: int = 64, loc: tuple[str | int, ...] = BODY) -> Decoder:
    """A function that turns JSON bytes into ``tp`` or raises a 400 / 422 HTTP error.

    >>> decode = build_decoder(list[int])
    >>> decode(b"[1, 2]")
    [1, 2]
    """
    if is_pydantic_type(tp):
        return _pydantic_decoder(tp, max_depth, loc)
    typed = msgspec.json.Decoder(tp).decode
    bounded = (static_depth(tp) or 0) <= max_depth if static_depth(tp) is not None else False

    def decode(data: bytes) -> Any:
        # PERF: a fixed-shape type cannot be fed anything deeper than itself, so only open-ended
        # types (Any, recursive models) pay for the depth scan.
        if not bounded:
            check_depth(data, max_depth)
        try:
            return typed(data)
        except msgspec.ValidationError as exc:
            raise _explain(data, tp, exc, loc) from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            raise _malformed() from None

    return decode


def _explain(data: bytes, tp: Any, exc: msgspec.ValidationError, loc: tuple[str | int, ...]) -> HTTPException:
    # Slow path only: decode untyped to tell malformed JSON (400) from wrong values (422).
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return _malformed()
    errors = collect_errors(raw, tp, loc) or [error_from_message(str(exc), loc)]
    return RequestValidationError(errors)


def _malformed() -> HTTPException:
    return HTTPException(400, "The request body is not valid JSON; check for a missing quote, comma or bracket.")


def _pydantic_decoder(tp: Any, max_depth: int, loc: tuple[str | int, ...]) -> Decoder:
    import pydantic

    adapter = pydantic.TypeAdapter(tp)

    def decode(data: bytes) -> Any:
        check_depth(data, max_depth)
        try:
            return adapter.validate_json(data)
        except pydantic.ValidationError as exc:
            raise _pydantic_errors(exc, loc) from None

    return decode


def _pydantic_errors(exc: Any, loc: tuple[str | int, ...]) -> HTTPException:
    errors = exc.errors(include_url=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return _malformed()
    details = [ErrorDetail((*loc, *e["loc"]), e["msg"], e["type"]) for e in errors[:MAX_ERRORS]]
    return RequestValidationError(details)


def pydantic_converter(tp: Any, loc: tuple[str | int, ...]) -> Callable[[Any], Any]:
    """A converter (built once, at startup) validating builtins through pydantic, raising a 422 at ``loc``.

    Used for parameters whose ``Annotated`` metadata only pydantic can run (``AfterValidator``, ``Field``).
    """
    import pydantic

    adapter = pydantic.TypeAdapter(tp)

    def convert(raw: Any) -> Any:
        try:
            return adapter.validate_python(raw)
        except pydantic.ValidationError as exc:
            raise _pydantic_errors(exc, loc) from None

    return convert


_is_pydantic = functools.lru_cache(maxsize=512)(is_pydantic_type)


@functools.lru_cache(maxsize=512)
def _adapter(tp: Any) -> Any:
    # PERF: building a TypeAdapter costs tens of microseconds; parameter models reuse one per type.
    import pydantic

    return pydantic.TypeAdapter(tp)


def convert_value(value: Any, tp: Any, loc: tuple[str | int, ...]) -> Any:
    """Convert builtins (form fields, parameter models) into ``tp``, raising a 422 with every error."""
    if _is_pydantic(tp):
        import pydantic

        try:
            return _adapter(tp).validate_python(value)
        except pydantic.ValidationError as exc:
            raise _pydantic_errors(exc, loc) from None
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError as exc:
        errors = collect_errors(value, tp, loc, strict=False) or [error_from_message(str(exc), loc)]
        raise RequestValidationError(errors) from None


def _enc_hook(value: Any) -> Any:
    if is_pydantic_type(type(value)):
        return value.model_dump(mode="json")
    raise NotImplementedError(
        f"Plait cannot encode a {type(value).__name__} as JSON; return a dict, a msgspec.Struct, a dataclass "
        "or a pydantic model, or declare the return type so Plait can convert it."
    )


_plain_encode = msgspec.json.Encoder(enc_hook=_enc_hook).encode


def build_encoder(tp: Any) -> Encoder:
    """A function that encodes a handler's return value as JSON, shaped by its declared type.

    Models (Structs, dataclasses, TypedDicts, pydantic) are filtered to the declared fields,
    so an object with extra attributes never leaks them.

    >>> build_encoder(dict[str, int])({"a": 1})
    b'{"a":1}'
    """
    tp, _ = unwrap_annotated(tp)
    if tp is Any or tp is None or not _needs_shaping(tp):
        return _plain_encode
    exact = tp if isinstance(tp, type) else None
    if is_pydantic_type(tp):
        return _pydantic_encoder(tp, exact)

    def encode(value: Any) -> bytes:
        try:
            # PERF: a value that already is the declared Struct/dataclass needs no conversion.
            if exact is not None and type(value) is exact:
                return _plain_encode(value)
            return _plain_encode(msgspec.convert(value, tp, from_attributes=True))
        except NotImplementedError:
            # PERF: only results that hold foreign objects get here (costless try otherwise). convert()
            # passes a Struct or dataclass of the declared class through as it is, so a page envelope
            # holding ORM rows (Page(items=[row, ...]) for Page[ArticleRead]) arrives unconverted:
            # loosen the envelopes into namespaces and read the rows by their attributes.
            return _plain_encode(msgspec.convert(loosen(value), tp, from_attributes=True))

    return encode


def loosen(value: Any) -> Any:
    """``value`` with every Struct and dataclass inside turned into a plain namespace (other objects kept).

    ``msgspec.convert(..., from_attributes=True)`` then rebuilds each one from its attributes, by
    their Python names (a Struct's renamed JSON keys do not matter), converting what they hold.

    >>> import msgspec
    >>> class Box(msgspec.Struct):
    ...     items: list[object]
    >>> loosen(Box([Box([])]))
    namespace(items=[namespace(items=[])])
    """
    if isinstance(value, msgspec.Struct):
        return types.SimpleNamespace(**{key: loosen(getattr(value, key)) for key in value.__struct_fields__})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return types.SimpleNamespace(**{f.name: loosen(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, list | tuple):
        return [loosen(item) for item in value]
    if isinstance(value, dict):
        return {key: loosen(item) for key, item in value.items()}
    return value


def _pydantic_encoder(tp: Any, exact: type | None) -> Encoder:
    import pydantic

    adapter = pydantic.TypeAdapter(tp)

    def encode(value: Any) -> bytes:
        if exact is not None and type(value) is exact:
            return adapter.dump_json(value)
        # A dict or an ORM object is validated into the declared type first, so only its
        # declared fields are written (dump_json alone would copy a dict whole).
        return adapter.dump_json(adapter.validate_python(value, from_attributes=True))

    return encode


def _needs_shaping(tp: Any) -> bool:
    if is_model_type(tp):
        return True
    return any(_needs_shaping(arg) for arg in get_args(tp) if get_origin(tp) is not None)


__all__ = ["build_decoder", "build_encoder", "convert_value", "pydantic_converter"]

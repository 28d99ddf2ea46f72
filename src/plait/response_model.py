"""``response_model=``: a route's result validated and filtered to a declared type, as in FastAPI.

The model replaces the return annotation for encoding. The result may be a dict, a Struct, a
dataclass, a pydantic model or any object with matching attributes (an ORM row); only the model's
fields are sent, so a returned object never leaks extra ones (a password hash, say). A result that
does not fit is the server's bug: a :class:`ResponseValidationError` (a 500 that names the handler).

``response_model_include`` / ``response_model_exclude`` take top-level field names, as they appear
in the JSON (for ``list[Model]``, each item's top-level fields). ``response_model_exclude_unset``
leaves out the fields the returned dict or pydantic model did not set; Structs and dataclasses do
not record which fields were given, so for them every field counts as set.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import msgspec

from plait.codec.bodies import Encoder, build_encoder
from plait.codec.types import describe, is_pydantic_type


class ResponseValidationError(Exception):
    """A handler returned a value that does not fit its response model: a server bug, answered with 500."""


def model_encoder(name: str, model: Any, options: Mapping[str, Any]) -> Encoder:
    """The encoder for a route declared with ``response_model=model`` (and its include/exclude options).

    >>> encode = model_encoder("show", dict[str, int], {"response_model_exclude": {"secret"}})
    >>> encode({"id": 1, "secret": 2})
    b'{"id":1}'
    """
    if model is None:  # response_model=None: no schema, encode whatever is returned
        return build_encoder(None)
    include: Collection[str] | None = options.get("response_model_include")
    exclude: Collection[str] = options.get("response_model_exclude") or ()
    unset = bool(options.get("response_model_exclude_unset", False))
    if include is None and not exclude and not unset:
        inner = build_encoder(model)
    else:
        inner = _filtering(model, include, frozenset(exclude), unset)

    def encode(value: Any) -> bytes:
        try:
            return inner(value)
        except (msgspec.ValidationError, TypeError, ValueError) as exc:  # pydantic's error is a ValueError
            raise ResponseValidationError(
                f"{name} returned a {type(value).__name__} that does not match its response model "
                f"{describe(model)}: {exc}. Return a value of that shape, or change response_model=."
            ) from exc

    return encode


def _filtering(model: Any, include: Collection[str] | None, exclude: frozenset[str], unset: bool) -> Encoder:
    keep = frozenset(include) if include is not None else None
    to_data = _pydantic_data(model, unset) if is_pydantic_type(model) else _msgspec_data(model, unset)

    def encode(value: Any) -> bytes:
        return msgspec.json.encode(_select(to_data(value), keep, exclude))

    return encode


def _pydantic_data(model: Any, unset: bool) -> Callable[[Any], Any]:
    import pydantic

    adapter = pydantic.TypeAdapter(model)

    def to_data(value: Any) -> Any:
        validated = adapter.validate_python(value, from_attributes=True)
        return adapter.dump_python(validated, mode="json", exclude_unset=unset)

    return to_data


def _msgspec_data(model: Any, unset: bool) -> Callable[[Any], Any]:
    exact = model if isinstance(model, type) else None

    def to_data(value: Any) -> Any:
        converted = (
            value if exact is not None and type(value) is exact else msgspec.convert(value, model, from_attributes=True)
        )
        data = msgspec.to_builtins(converted)
        return _only_set(data, value) if unset else data

    return to_data


def _only_set(data: Any, value: Any) -> Any:
    """``data`` without the top-level fields ``value`` (a dict, or a list of them) did not give."""
    if isinstance(data, list) and isinstance(value, list):
        return [_only_set(d, v) for d, v in zip(data, value, strict=True)]
    if isinstance(data, dict) and isinstance(value, Mapping):
        return {key: item for key, item in data.items() if key in value}
    return data


def _select(data: Any, keep: frozenset[str] | None, drop: frozenset[str]) -> Any:
    if isinstance(data, list):
        return [_select(item, keep, drop) for item in data]
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if (keep is None or k in keep) and k not in drop}
    return data

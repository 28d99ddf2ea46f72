"""Python types as JSON Schema (2020-12, the dialect of OpenAPI 3.1), named types as shared components.

msgspec describes what it decodes (Structs, dataclasses, TypedDicts, enums, unions, ``Literal``,
``Annotated[..., msgspec.Meta(...)]`` constraints, recursive types); pydantic describes its own
models, exactly as Plait hands them to pydantic to decode. Every named type lands once in
``components`` and is referred to by ``$ref``.

Two different types may carry the same name (``Item`` in two modules). The second one is
renamed (``Item2``) and the references to it rewritten, so neither replaces the other.

>>> import msgspec
>>> class Point(msgspec.Struct):
...     x: int
...     y: int = 0
>>> registry = SchemaRegistry()
>>> registry.schema(list[Point])
{'type': 'array', 'items': {'$ref': '#/components/schemas/Point'}}
>>> registry.components["Point"]["required"]
['x']
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import re
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import msgspec

from plait.codec.types import describe, is_pydantic_model, is_pydantic_type
from plait.datastructures import UploadFile
from plait.exceptions import ConfigurationError

__all__ = ["REF_PREFIX", "Mode", "SchemaRegistry", "binary_schema", "drop_null", "is_json", "json_value"]

REF_PREFIX = "#/components/schemas/"
Mode = Literal["validation", "serialization"]
JSONSchema = dict[str, Any]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")  # component names must match ^[a-zA-Z0-9.\-_]+$
_DATA_KEYS = frozenset({"default", "examples", "example", "enum", "const"})  # values, not schemas

PROBLEM: JSONSchema = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A URI reference that names the kind of problem."},
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
    },
    "required": ["type", "title", "status", "detail"],
}
VALIDATION_ERROR: JSONSchema = {
    "title": "ValidationError",
    "description": "One invalid part of the request.",
    "type": "object",
    "properties": {
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "description": "Where: the source (path, query, header, cookie, body), then field names and indexes.",
        },
        "msg": {"type": "string", "description": "What is wrong."},
        "type": {"type": "string", "description": "A machine-readable kind of error."},
    },
    "required": ["loc", "msg", "type"],
}
VALIDATION_PROBLEM: JSONSchema = {
    "title": "ValidationProblem",
    "description": "The request did not match the declared parameters; every bad field is listed.",
    "type": "object",
    "properties": {
        **PROBLEM["properties"],
        "errors": {"type": "array", "items": {"$ref": REF_PREFIX + "ValidationError"}},
    },
    "required": [*PROBLEM["required"], "errors"],
}


def binary_schema() -> JSONSchema:
    """An uploaded file: raw bytes in a multipart part."""
    return {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}


def _schema_hook(tp: type) -> JSONSchema:
    if tp is UploadFile:
        return binary_schema()
    raise NotImplementedError


class SchemaRegistry:
    """Schemas for types; the named ones are collected in :attr:`components`."""

    def __init__(self) -> None:
        self.components: dict[str, JSONSchema] = {}
        self._cache: dict[tuple[Any, str], JSONSchema] = {}
        self._given: dict[str, list[str]] = {}  # a type's own name -> the component names it was given

    def schema(self, tp: Any, mode: Mode = "validation") -> JSONSchema:
        """The schema of ``tp`` as read from a request (``validation``) or written in a response."""
        key = (tp, mode)
        try:
            cached = self._cache.get(key)
            hashable = True
        except TypeError:  # Annotated metadata that cannot be hashed
            cached, hashable = None, False
        if cached is None:
            schema, definitions = _generate(tp, mode)
            cached = self.add(schema, definitions)
            if hashable:
                self._cache[key] = cached
        return copy.deepcopy(cached)

    def add(self, schema: JSONSchema, definitions: Mapping[str, JSONSchema]) -> JSONSchema:
        """Store ``definitions`` as components (renaming clashes); ``schema`` with its references updated."""
        names = self._place(definitions)
        for name, body in definitions.items():
            self.components[names[name]] = _rename_refs(body, names)
        renamed: JSONSchema = _rename_refs(schema, names)
        return renamed

    def problem(self, validation: bool = False) -> JSONSchema:
        """A reference to the problem-details component (the 422 one when ``validation``)."""
        if validation:
            return self.add(
                {"$ref": REF_PREFIX + "ValidationProblem"},
                {"ValidationProblem": VALIDATION_PROBLEM, "ValidationError": VALIDATION_ERROR},
            )
        return self.add({"$ref": REF_PREFIX + "Problem"}, {"Problem": PROBLEM})

    def resolve(self, schema: JSONSchema) -> JSONSchema:
        """Follow a ``$ref`` to the component it names (other schemas are returned as they are)."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            return self.components.get(ref[len(REF_PREFIX) :], schema)
        return schema

    def used_by(self, document: Any) -> dict[str, JSONSchema]:
        """The components ``document`` refers to, directly or through other components, sorted by name.

        Parameter and form models are spread into their members, so their own components may go unused.
        """
        used: set[str] = set()
        pending = list(_references(document))
        while pending:
            name = pending.pop()
            if name not in used and name in self.components:
                used.add(name)
                pending.extend(_references(self.components[name]))
        return {name: self.components[name] for name in sorted(used)}

    def _place(self, definitions: Mapping[str, JSONSchema]) -> dict[str, str]:
        """The component name for each definition: its own, unless another type already holds it."""
        names = {name: _UNSAFE.sub("_", name) for name in definitions}
        changed = True
        while changed:  # a rename changes the references of the types that use it; check those again
            changed = False
            for name, body in definitions.items():
                held = self.components.get(names[name])
                if held is not None and held != _rename_refs(body, names):
                    names[name] = self._same(name, body, names) or self._fresh(names[name], set(names.values()))
                    changed = True
        for name, placed in names.items():
            given = self._given.setdefault(name, [])
            if placed not in given:
                given.append(placed)
        return names

    def _same(self, name: str, body: JSONSchema, names: dict[str, str]) -> str | None:
        """The component already given to this very type under another name (``Item2``), if any."""
        for candidate in self._given.get(name, ()):
            if self.components.get(candidate) == _rename_refs(body, {**names, name: candidate}):
                return candidate
        return None

    def _fresh(self, base: str, taken: set[str]) -> str:
        number = 2
        while f"{base}{number}" in self.components or f"{base}{number}" in taken:
            number += 1
        return f"{base}{number}"


def _generate(tp: Any, mode: Mode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
    try:
        if is_pydantic_type(tp):
            return _pydantic_schema(tp, mode)
        (schema,), definitions = msgspec.json.schema_components(
            [tp], schema_hook=_schema_hook, ref_template=REF_PREFIX + "{name}"
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"Plait cannot describe the type {describe(tp)} in the OpenAPI document ({exc}). Use a type Plait "
            "decodes (a scalar, Struct, dataclass, TypedDict, enum, pydantic model or a collection of them)."
        ) from None
    orders = _declared_orders(tp)
    if orders:
        _reorder(schema, orders)
        _reorder(definitions, orders)
    return schema, definitions


def _declared_orders(tp: Any) -> list[tuple[Any, ...]]:
    """The members of every enum and ``Literal`` reachable from ``tp``, in the order they were declared.

    msgspec sorts them in the schemas it writes; a reader of the docs expects the declaration order
    (``Size.S, Size.M, Size.L``), as pydantic keeps it.
    """
    orders: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    pending = [tp]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, type) and issubclass(current, enum.Enum):
            orders.append(tuple(member.value for member in current))
        elif typing.get_origin(current) is Literal:
            orders.append(typing.get_args(current))
        else:
            pending.extend(typing.get_args(current))
            pending.extend(_field_types(typing.get_origin(current) or current))
    return orders


def _field_types(tp: Any) -> list[Any]:
    """The annotations of a Struct, dataclass, TypedDict or NamedTuple (nothing for other types)."""
    if not isinstance(tp, type):
        return []
    named_tuple = issubclass(tp, tuple) and hasattr(tp, "_fields")
    if not (issubclass(tp, msgspec.Struct) or dataclasses.is_dataclass(tp) or typing.is_typeddict(tp) or named_tuple):
        return []
    try:
        return list(typing.get_type_hints(tp, include_extras=True).values())
    except Exception:  # an annotation that cannot be resolved here; msgspec has described the type anyway
        return []


def _reorder(value: Any, orders: list[tuple[Any, ...]]) -> None:
    """Put every ``enum`` list inside ``value`` back into the declared order of the type it came from."""
    if isinstance(value, dict):
        members = value.get("enum")
        if isinstance(members, list):
            value["enum"] = _in_order(members, orders)
        for key, item in value.items():
            if key not in _DATA_KEYS:
                _reorder(item, orders)
    elif isinstance(value, list):
        for item in value:
            _reorder(item, orders)


def _in_order(members: list[Any], orders: list[tuple[Any, ...]]) -> list[Any]:
    """``members`` in the order of the one enum or ``Literal`` that declares exactly them (as msgspec keeps each)."""
    wanted = {(type(m), m) for m in members}
    for order in orders:
        if wanted == {(type(m), m) for m in order}:
            return list(dict.fromkeys(order))
    return members


def _pydantic_schema(tp: Any, mode: Mode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
    import pydantic
    from pydantic.json_schema import models_json_schema

    template = REF_PREFIX + "{model}"
    if is_pydantic_model(tp):  # a model on its own becomes a component too, not an inline schema
        refs, top = models_json_schema([(tp, mode)], ref_template=template)
        return dict(refs[(tp, mode)]), dict(top.get("$defs", {}))
    schema = pydantic.TypeAdapter(tp).json_schema(ref_template=template, mode=mode)
    return schema, schema.pop("$defs", {})


def _rename_refs(value: Any, names: Mapping[str, str]) -> Any:
    """A deep copy of ``value`` with ``$ref`` names replaced as ``names`` says."""
    if isinstance(value, dict):
        result: JSONSchema = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                name = item[len(REF_PREFIX) :]
                result[key] = REF_PREFIX + names.get(name, name)
            elif key in _DATA_KEYS:
                result[key] = copy.deepcopy(item)
            else:
                result[key] = _rename_refs(item, names)
        return result
    if isinstance(value, list):
        return [_rename_refs(item, names) for item in value]
    return value


def _references(value: Any) -> Iterator[str]:
    """The component names of every ``$ref`` inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                yield item[len(REF_PREFIX) :]
            elif key not in _DATA_KEYS:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def drop_null(schema: JSONSchema) -> JSONSchema:
    """``T | None`` without the ``None``: a query value is either absent or a ``T``.

    >>> drop_null({"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None})
    {'type': 'integer'}
    """
    members = schema.get("anyOf")
    if not isinstance(members, list) or {"type": "null"} not in members:
        return schema
    rest = [m for m in members if m != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    if len(rest) == 1:
        return {**rest[0], **outer}
    return {"anyOf": rest, **outer}


_NOT_JSON = object()


def json_value(value: Any) -> Any:
    """``value`` as plain JSON data (for defaults and examples), or a sentinel when it has no JSON form."""
    try:
        return msgspec.to_builtins(value, enc_hook=_pydantic_builtins)
    except (TypeError, ValueError, NotImplementedError):
        return _NOT_JSON


def is_json(value: Any) -> bool:
    return value is not _NOT_JSON


def _pydantic_builtins(value: Any) -> Any:
    if is_pydantic_model(type(value)):
        return value.model_dump(mode="json")
    raise NotImplementedError

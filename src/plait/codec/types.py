"""Type inspection done once at startup: what kind of value an annotation describes."""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec


def _pydantic_base() -> type | None:
    """pydantic's BaseModel if the app has imported pydantic, else None.

    A pydantic model can only exist once pydantic is imported, so Plait never imports it itself:
    apps without pydantic do not pay its import time (about 80 ms).
    """
    module = sys.modules.get("pydantic")
    return getattr(module, "BaseModel", None) if module is not None else None


SCALARS: tuple[type, ...] = (str, int, float, bool, bytes)


def unwrap_annotated(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """Split ``Annotated[T, a, b]`` into ``(T, (a, b))``; other types give ``(tp, ())``."""
    if get_origin(tp) is Annotated:
        return tp.__origin__, tp.__metadata__
    return tp, ()


def is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def strip_optional(tp: Any) -> tuple[Any, bool]:
    """``T | None`` gives ``(T, True)``; anything else ``(tp, False)``."""
    if is_union(tp):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            return (args[0] if len(args) == 1 else Union[tuple(args)]), True  # noqa: UP007
    return tp, False


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing.is_typeddict(tp)


def is_pydantic_model(tp: Any) -> bool:
    base = _pydantic_base()
    return base is not None and isinstance(tp, type) and issubclass(tp, base)


def is_model_type(tp: Any) -> bool:
    """A structured type that arrives as a JSON object: Struct, dataclass, TypedDict, pydantic model."""
    tp, _ = unwrap_annotated(tp)
    return isinstance(tp, type) and (
        issubclass(tp, msgspec.Struct) or dataclasses.is_dataclass(tp) or is_typeddict(tp) or is_pydantic_model(tp)
    )


def is_pydantic_type(tp: Any) -> bool:
    """True when a pydantic model, or metadata only pydantic runs, appears anywhere inside the annotation."""
    if _pydantic_base() is None:
        return False
    tp, metadata = unwrap_annotated(tp)
    if is_pydantic_model(tp) or any(is_pydantic_metadata(item) for item in metadata):
        return True
    return any(is_pydantic_type(arg) for arg in get_args(tp) if not isinstance(arg, str | int))


_PYDANTIC_PACKAGES = frozenset({"pydantic", "pydantic_core", "annotated_types"})


def is_pydantic_metadata(item: Any) -> bool:
    """``Annotated`` metadata that pydantic runs: its validators, ``Field()``, annotated-types constraints.

    >>> import annotated_types
    >>> is_pydantic_metadata(annotated_types.Gt(0)), is_pydantic_metadata("a description")
    (True, False)
    """
    if isinstance(item, type):  # a class is not metadata pydantic runs (a model there is a mistake)
        return False
    package = (getattr(type(item), "__module__", None) or "").partition(".")[0]
    # Third-party metadata joins in through pydantic's own hook, as pydantic itself would run it.
    return package in _PYDANTIC_PACKAGES or hasattr(item, "__get_pydantic_core_schema__")


def pydantic_metadata_in(tp: Any) -> bool:
    """True when metadata only pydantic runs appears anywhere inside ``tp`` (checked before pydantic is imported)."""
    tp, metadata = unwrap_annotated(tp)
    if any(is_pydantic_metadata(item) for item in metadata):
        return True
    return any(pydantic_metadata_in(arg) for arg in get_args(tp) if not isinstance(arg, str | int))


def is_scalar_type(tp: Any) -> bool:
    """A type a single query/path/header string can be converted into."""
    tp, _ = unwrap_annotated(tp)
    tp, _ = strip_optional(tp)
    tp, _ = unwrap_annotated(tp)
    if get_origin(tp) is Literal:
        return True
    if is_union(tp):
        return all(is_scalar_type(a) for a in get_args(tp))
    if tp is Any:  # checked first: since Python 3.11 ``Any`` is itself a class
        return True
    if not isinstance(tp, type):
        return False
    import datetime
    import decimal
    import uuid

    known = (
        *SCALARS,
        enum.Enum,
        uuid.UUID,
        decimal.Decimal,
        datetime.date,
        datetime.time,
        datetime.timedelta,
    )
    return issubclass(tp, known)


def is_sequence_type(tp: Any) -> bool:
    """``list[T]``, ``set[T]``, ``tuple[T, ...]``, ``frozenset[T]`` of scalars: repeated query keys."""
    tp, _ = unwrap_annotated(tp)
    tp, _ = strip_optional(tp)
    tp, _ = unwrap_annotated(tp)
    origin = get_origin(tp)
    if origin not in (list, set, frozenset, tuple):
        return False
    args = get_args(tp)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return False
    return bool(args) and is_scalar_type(args[0])


def describe(tp: Any) -> str:
    """A short readable name for an annotation, for error messages."""
    tp, _ = unwrap_annotated(tp)
    if isinstance(tp, type) and get_origin(tp) is None:
        return tp.__name__
    return repr(tp).replace("typing.", "")


def static_depth(tp: Any, _seen: frozenset[Any] = frozenset()) -> int | None:
    """How deeply JSON accepted for ``tp`` can nest, or None when unbounded (``Any``, recursion).

    A typed decoder refuses anything deeper than its type at the first unexpected bracket, so a
    body for a bounded type needs no separate depth scan.

    >>> static_depth(list[dict[str, int]])
    2
    """
    tp, _ = unwrap_annotated(tp)
    if tp is Any or tp is object or tp in _seen:
        return None
    if is_union(tp):
        depths = [static_depth(arg, _seen) for arg in get_args(tp)]
        return None if None in depths else max(d for d in depths if d is not None)
    origin = get_origin(tp)
    if tp is None or tp is type(None) or origin is Literal or (isinstance(tp, type) and is_scalar_type(tp)):
        return 0
    children = _children(tp, origin)
    if children is None:
        return None
    depths = [static_depth(child, _seen | {tp}) for child in children]
    if None in depths:
        return None
    return 1 + max((d for d in depths if d is not None), default=0)


def _children(tp: Any, origin: Any) -> list[Any] | None:
    if origin in (list, set, frozenset, tuple, dict):
        return [a for a in get_args(tp) if a is not Ellipsis] or None
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [f.type for f in msgspec.structs.fields(tp)]
    if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or is_typeddict(tp)):
        try:
            return list(typing.get_type_hints(tp).values())
        except NameError:
            return None
    return None

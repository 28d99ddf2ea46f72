"""``Annotated`` metadata beyond Plait's own markers: run by pydantic, ignored as documentation, or refused.

Decided once per parameter, at startup:

* Plait's markers (``Query()``, ``Header()``, ...) and ``msgspec.Meta`` constraints: Plait runs them itself.
* pydantic's validators (``AfterValidator``, ``BeforeValidator``, ...), ``Field(...)``, annotated-types
  constraints (``Gt(0)``, ``Len(1, 5)``) and any object with pydantic's ``__get_pydantic_core_schema__``
  hook: the value is validated by one pydantic ``TypeAdapter`` of the whole annotation, built at
  startup, and failures are 422s at the parameter's location. Without pydantic installed this is a
  ``ConfigurationError`` naming the fix.
* Strings and other plain, non-callable objects (documentation such as ``Doc("...")``, other tools'
  markers): ignored, as ``Annotated`` intends.
* Anything else that is callable (a bare function, a class): refused at startup, since it looks like a
  validator that nothing would run.
"""

from __future__ import annotations

import functools
import importlib.util
import operator
import types
import typing
from typing import Annotated, Any

import msgspec

from plait.codec.types import is_pydantic_metadata, pydantic_metadata_in
from plait.exceptions import ConfigurationError
from plait.params.markers import Param

_BOUNDS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


def pydantic_installed() -> bool:
    return importlib.util.find_spec("pydantic") is not None


def pydantic_metadata(owner: str, name: str, base: Any, metadata: tuple[Any, ...], default: Any) -> tuple[Any, ...]:
    """The top-level metadata of parameter ``name`` that pydantic must run; refuse what nothing would run.

    >>> import annotated_types
    >>> pydantic_metadata("f", "n", int, (annotated_types.Gt(0), "a count"), 1)
    (Gt(gt=0),)
    """
    where = f"{owner}: parameter {name!r}"
    if is_pydantic_metadata(default):
        raise ConfigurationError(
            f"{where} has a pydantic Field(...) as its default, which a handler parameter does not read; "
            "write Annotated[T, Field(...)] = default, or use Query(default, gt=...)/Body(...) instead."
        )
    found: list[Any] = []
    for item in metadata:
        if isinstance(item, Param | msgspec.Meta | str):
            continue
        if is_pydantic_metadata(item):
            found.append(item)
        elif callable(item):
            raise ConfigurationError(
                f"{where}: Plait does not run {item!r} found in Annotated[...]; to validate with a function "
                "wrap it as pydantic's AfterValidator(fn), or move the check into the handler or a Depends()."
            )
    if (found or pydantic_metadata_in(base)) and not _import_pydantic():
        raise ConfigurationError(
            f"{where} uses pydantic/annotated-types metadata, which pydantic runs: install it "
            "(pip install 'plait[pydantic]'), or express the constraint as Query(gt=...)/msgspec.Meta(gt=...)."
        )
    return tuple(found)


def _import_pydantic() -> bool:
    if not pydantic_installed():
        return False
    # Imported now, at startup, so that codec.types recognises pydantic types from here on.
    import pydantic  # noqa: F401

    return True


def pydantic_annotated(base: Any, metas: tuple[msgspec.Meta, ...], found: tuple[Any, ...]) -> Any:
    """``Annotated[base, Field(<msgspec bounds>), *found]``: one type pydantic validates completely."""
    import pydantic

    bounds = {key: getattr(meta, key) for meta in metas for key in _BOUNDS if getattr(meta, key) is not None}
    extra = (pydantic.Field(**bounds),) if bounds else ()
    return Annotated[(base, *extra, *found)]


def for_pydantic(tp: Any) -> Any:
    """``tp`` with its ``msgspec.Meta`` constraints (``Body(gt=0)``, ``Query(max_length=3)``) as pydantic ``Field``s.

    pydantic ignores ``msgspec.Meta``, so a value validated by pydantic (a member of a merged pydantic
    body) would silently lose them. ``Optional`` wrappers are looked through.

    >>> import pydantic
    >>> pydantic.TypeAdapter(for_pydantic(Annotated[int, msgspec.Meta(gt=0)] | None)).validate_python(1)
    1
    """
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *metadata = typing.get_args(tp)
        metas = tuple(m for m in metadata if isinstance(m, msgspec.Meta))
        others = tuple(m for m in metadata if not isinstance(m, msgspec.Meta))
        return pydantic_annotated(base, metas, others) if metas else tp
    if origin is typing.Union or origin is types.UnionType:
        return functools.reduce(operator.or_, [for_pydantic(arg) for arg in typing.get_args(tp)])
    return tp

"""The ``Depends`` marker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Depends:
    """Ask Plait to call ``dependency`` and pass its result.

    ``use_cache`` (default True) shares one result per request among everything that asks for it.
    ``scope="app"`` creates the value once, in the lifespan, and keeps it for the app's life;
    a generator provider's code after ``yield`` runs after the response (or at shutdown for ``"app"``).

    >>> from typing import Annotated
    >>> def get_settings() -> dict[str, str]:
    ...     return {"region": "eu"}
    >>> SettingsDep = Annotated[dict[str, str], Depends(get_settings)]

    With no provider, the parameter's annotated class is the provider (its ``__init__`` parameters
    are read from the request like a handler's)::

        def items(commons: Annotated[CommonParams, Depends()]) -> list[Item]: ...
    """

    dependency: Callable[..., Any] | None = None
    use_cache: bool = True
    scope: Literal["request", "app"] = "request"

"""The ``Depends`` marker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from plait.exceptions import ConfigurationError


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

    def __post_init__(self) -> None:
        # Checked here, where the mistake is written: a wrong scope would otherwise quietly mean "request".
        if self.dependency is not None and not callable(self.dependency):
            raise ConfigurationError(
                f"Depends({self.dependency!r}): the provider must be a function or a class, e.g. Depends(get_db)."
            )
        if self.scope not in ("request", "app"):
            raise ConfigurationError(
                f"Depends(scope={self.scope!r}) is not a Plait scope; use scope='request' (the default: made per "
                "request, code after yield runs after the response) or scope='app' (made once at startup)."
            )

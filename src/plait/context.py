"""``g``: a per-request namespace reachable from anywhere, as in Flask.

>>> from plait import g
>>> def current_user_name() -> str:      # deep in a helper, no request at hand
...     return g.user.name

``g`` is the current request's ``request.state``: a fresh namespace for every request, set by a
middleware, a hook or a dependency and read anywhere below it, including sync handlers and hooks
running in the thread pool. Concurrent requests never see each other's values.

Plait tracks the current request only for apps that use ``g``: importing this module (``from plait
import g`` does) before the app starts turns it on; apps that never import it pay nothing.
Outside a request, touching ``g`` raises a ``RuntimeError`` that says why.
"""

from __future__ import annotations

import contextvars
from typing import Any

from plait._types import ASGIApp, Receive, Scope, Send
from plait.datastructures import State

__all__ = ["OutsideRequestError", "RequestContext", "current_scope", "g"]

_scope: contextvars.ContextVar[Scope] = contextvars.ContextVar("plait.request_scope")
_STATE = "plait.request_state"  # the scope key behind request.state


class RequestContext:
    """ASGI layer that makes each HTTP request or WebSocket connection current while it is served.

    Added by :class:`~plait.app.Plait` at startup, outermost, when this module has been imported.
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _scope.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _scope.reset(token)


def current_scope() -> Scope | None:
    """The ASGI scope of the request being served, or None (outside a request, or ``g`` unused)."""
    return _scope.get(None)


class OutsideRequestError(RuntimeError, AttributeError):
    """``g`` was touched with no request being served.

    Also an ``AttributeError``, so ``hasattr(g, ...)`` and tools that inspect objects (doctest, pytest)
    see a missing attribute rather than a crash.
    """


def _state() -> State:
    scope = _scope.get(None)
    if scope is None:
        raise OutsideRequestError(
            "plait.g is only available while a request is being served (in a handler, hook, middleware or "
            "dependency); make sure 'from plait import g' runs at import time, before the app starts, "
            "or use request.state, which is the same namespace."
        )
    state: State = scope.setdefault(_STATE, State())
    return state


class _RequestGlobals:
    """The proxy behind ``g``: every access goes to the current request's namespace."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        state = _state()
        if name not in state:
            raise AttributeError(f"g has no attribute {name!r} in this request; set it first (g.{name} = ...).")
        return getattr(state, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_state(), name, value)

    def __delattr__(self, name: str) -> None:
        state = _state()
        if name not in state:
            raise AttributeError(f"g has no attribute {name!r} in this request.")
        del state.__dict__[name]

    def __contains__(self, name: str) -> bool:
        return name in _state()

    def get(self, name: str, default: Any = None) -> Any:
        """``g.get("user")``: the value, or ``default`` when it was not set in this request."""
        return _state().__dict__.get(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """The value of ``name``, set to ``default`` first when missing."""
        return _state().__dict__.setdefault(name, default)

    def pop(self, name: str, default: Any = None) -> Any:
        """Remove ``name`` and return its value (``default`` when it was not set)."""
        return _state().__dict__.pop(name, default)

    def __repr__(self) -> str:
        scope = _scope.get(None)
        return "<plait.g outside a request>" if scope is None else f"<plait.g {scope.get(_STATE, State()).__dict__!r}>"


g = _RequestGlobals()
"""The current request's namespace (``request.state``); see the module docs."""

"""Flask-style request hooks: ``before_request``, ``after_request`` and ``teardown_request``.

Hooks belong to a router (the app is one) and run only for that router's routes (and its child
routers'). A route whose routers declare no hook is served exactly as before: the wrapper below is
added at startup only where hooks exist.

* ``before_request``: ``fn()`` or ``fn(request)``, in declaration order, app first. Returning a value
  (a Response, a str, or anything JSON can encode) answers the request; the handler is skipped.
* ``after_request``: ``fn(response)`` or ``fn(request, response)``, innermost router first and, within
  a router, the last declared first. It sees the response as it begins (status, headers, cookies;
  a streamed body still streams) and returns it, or returns another Response to send instead.
* ``teardown_request``: ``fn(exc)`` or ``fn(request, exc)``, in the same order as ``after_request``,
  always, once the response is sent; ``exc`` is the exception that escaped the route, or None.

Sync hooks run in the thread pool, like sync handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.concurrency import ThreadPool
from plait.datastructures import MutableHeaders
from plait.errors import STARTED, HandlerTable, handle
from plait.exceptions import ConfigurationError
from plait.requests import Request
from plait.responses import JSONResponse, PlainTextResponse, Response
from plait.routing.callnext import replaying

HookKind = Literal["before_request", "after_request", "teardown_request"]
_ARITY: dict[HookKind, tuple[int, ...]] = {
    "before_request": (0, 1),
    "after_request": (1, 2),
    "teardown_request": (1, 2),
}
_SHAPES: dict[HookKind, str] = {
    "before_request": "fn() or fn(request)",
    "after_request": "fn(response) or fn(request, response)",
    "teardown_request": "fn(exc) or fn(request, exc)",
}


@dataclass(frozen=True, slots=True)
class Hook:
    """One declared hook: the function, whether it takes the request, whether it is async."""

    fn: Callable[..., Any]
    takes_request: bool
    is_async: bool

    @classmethod
    def declare(cls, kind: HookKind, fn: Callable[..., Any]) -> Hook:
        """Check ``fn``'s parameters for ``kind`` (at declaration, not per request).

        >>> Hook.declare("after_request", lambda response: response).takes_request
        False
        """
        if not callable(fn):
            raise ConfigurationError(f"@{kind} needs a function, got {fn!r}.")
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        if len(params) not in _ARITY[kind]:
            raise ConfigurationError(
                f"@{kind} {getattr(fn, '__qualname__', fn)} takes {len(params)} parameter(s); "
                f"declare it as {_SHAPES[kind]}."
            )
        takes_request = len(params) == _ARITY[kind][-1]
        return cls(fn, takes_request, inspect.iscoroutinefunction(fn))


@dataclass(slots=True)
class Hooks:
    """A router's hooks, in declaration order."""

    before_request: list[Hook] = field(default_factory=list)
    after_request: list[Hook] = field(default_factory=list)
    teardown_request: list[Hook] = field(default_factory=list)

    def add(self, kind: HookKind, fn: Callable[..., Any]) -> None:
        getattr(self, kind).append(Hook.declare(kind, fn))


def with_hooks(app: ASGIApp, layers: Sequence[Hooks], table: HandlerTable, pool: ThreadPool) -> ASGIApp:
    """``app`` wrapped in the hooks of its routers (outermost first), or ``app`` itself when there are none."""
    before = [h for layer in layers for h in layer.before_request]
    after = [h for layer in reversed(layers) for h in reversed(layer.after_request)]
    teardown = [h for layer in reversed(layers) for h in reversed(layer.teardown_request)]
    if not (before or after or teardown):
        return app  # PERF: decided at startup; routes without hooks pay nothing
    return HookedRoute(app, before, after, teardown, table, pool)


class HookedRoute:
    """Runs a route's hooks around it."""

    __slots__ = ("after", "app", "before", "pool", "table", "teardown")

    def __init__(
        self,
        app: ASGIApp,
        before: list[Hook],
        after: list[Hook],
        teardown: list[Hook],
        table: HandlerTable,
        pool: ThreadPool,
    ) -> None:
        self.app = app
        self.before = before
        self.after = after
        self.teardown = teardown
        self.table = table
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        outgoing = _AfterSend(self, request, send) if self.after else None
        escaped: Exception | None = None
        try:
            await self._serve(request, outgoing or send)
        except Exception as exc:
            if outgoing is not None and not outgoing.forwarded:
                scope.pop(STARTED, None)  # an after_request hook failed: nothing was sent, a 500 still can be
            escaped = exc
            raise
        finally:
            try:
                for hook in self.teardown:
                    await self.call(hook, request, escaped)
            finally:
                await request.close()

    async def _serve(self, request: Request, send: Send) -> None:
        scope, receive = request.scope, request._receive
        try:
            response = await self._before(request)
        except Exception as exc:
            handled = await handle(self.table, request, exc)
            if handled is None:
                raise
            response = handled
        if response is not None:
            await response(scope, receive, send)
        else:
            await self.app(scope, replaying(request, receive), send)

    async def _before(self, request: Request) -> Response | None:
        for hook in self.before:
            result = await (self.call(hook, request) if hook.takes_request else self.call_bare(hook))
            if result is not None:
                return _as_response(result)
        return None

    async def call(self, hook: Hook, request: Request, *args: Any) -> Any:
        """Run ``hook`` with the request (when it takes it) and ``args``."""
        given = (request, *args) if hook.takes_request else args
        if hook.is_async:
            return await hook.fn(*given)
        return await self.pool.run(hook.fn, *given)

    async def call_bare(self, hook: Hook) -> Any:
        return await hook.fn() if hook.is_async else await self.pool.run(hook.fn)


class _AfterSend:
    """``send`` for a route with ``after_request`` hooks: they run when the response begins."""

    __slots__ = ("forwarded", "replaced", "request", "route", "send")

    def __init__(self, route: HookedRoute, request: Request, send: Send) -> None:
        self.route = route
        self.request = request
        self.send = send
        self.forwarded = False
        self.replaced = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            began = _Began(message)
            response: Response = began
            for hook in self.route.after:
                result = await self.route.call(hook, self.request, response)
                response = result if result is not None else response
                if not isinstance(response, Response):
                    raise TypeError(
                        f"@after_request {getattr(hook.fn, '__qualname__', hook.fn)} returned "
                        f"{type(response).__name__}; return the response it was given (or another Response)."
                    )
            self.forwarded = True
            if response is began:
                await self.send({**message, "status": began.status_code, "headers": began.headers.raw})
            else:
                self.replaced = True
                await response(self.request.scope, self.request._receive, self.send)
        elif not self.replaced:
            await self.send(message)


class _Began(Response):
    """A response that has begun: its status and headers may still change, its body is on its way."""

    def __init__(self, start: Message) -> None:  # no super().__init__: the body is not here
        self.status_code = start["status"]
        self.headers = MutableHeaders(list(start.get("headers", [])))
        self.body = b""


def _as_response(value: Any) -> Response:
    if isinstance(value, Response):
        return value
    if isinstance(value, str):
        return PlainTextResponse(value)
    return JSONResponse(value)

"""A route compiled into a plain ASGI app: gather arguments, call the handler, send the result."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, get_origin

from plait._types import Receive, Scope, Send
from plait.codec.bodies import build_encoder
from plait.codec.types import unwrap_annotated
from plait.di.container import Container, Solver
from plait.di.markers import Depends
from plait.di.plan import CallKind, CallPlan, Dependency, call_kind
from plait.errors import STARTED, HandlerTable, ResponseGuard, handle
from plait.exceptions import HTTPException, RequestValidationError
from plait.params.signature import find_marker
from plait.requests import Request
from plait.responses import Response
from plait.websockets import WebSocket, WebSocketClose, WebSocketDisconnect

logger = logging.getLogger("plait.error")

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_NO_BODY = frozenset({204, 304})


class Endpoint:
    """Runs one handler for one request. Everything it needs was decided at startup."""

    __slots__ = (
        "asgi",
        "container",
        "direct",
        "encode",
        "extractors",
        "fn",
        "guards",
        "is_async",
        "needs_stack",
        "plan",
        "response_class",
        "simple",
        "status_code",
        "table",
        "text",
    )

    def __init__(
        self,
        plan: CallPlan,
        guards: list[Dependency],
        container: Container,
        table: HandlerTable,
        *,
        status_code: int = 200,
        response_class: type[Response] | None = None,
    ) -> None:
        self.plan = plan
        self.fn = plan.fn
        self.guards = guards
        self.needs_stack = plan.needs_exit_stack or any(g.plan.needs_exit_stack for g in guards)
        self.container = container
        self.table = table
        self.status_code = status_code
        self.response_class = response_class
        declared, _ = unwrap_annotated(plan.return_type)
        self.text = declared is str
        self.encode = build_encoder(plan.return_type if not _is_response_type(declared) else None)
        self.extractors = tuple(plan.sync_params)
        self.is_async = plan.kind is CallKind.ASYNC
        # PERF: the common shape (arguments straight from the request, no providers, no body) runs
        # without a Solver, a send wrapper or extra coroutine frames.
        self.direct = (
            plan.kind in (CallKind.ASYNC, CallKind.SYNC) and not plan.deps and not plan.async_params and not guards
        )
        self.simple = response_class is None and status_code not in _NO_BODY
        # PERF: the route table holds this bound method, one coroutine frame fewer than __call__.
        self.asgi: Callable[[Scope, Receive, Send], Awaitable[None]] = self._general
        if self.direct:
            no_args = self.is_async and not self.extractors and plan.body is None and self.simple
            self.asgi = self._no_args if no_args else self._direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct:
            await self._direct(scope, receive, send)
        else:
            await self._general(scope, receive, send)

    async def _no_args(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``async def hello() -> ...``: nothing to gather, so nothing but the call and the two messages.

        The sending code repeats ``_direct``'s on purpose (# PERF:): a shared helper coroutine would cost
        one more frame per request on the path the benchmarks' JSON hello measures.
        """
        try:
            result = await self.fn()
        except Exception as exc:
            await self._fail(scope, receive, send, None, exc)
            return
        if isinstance(result, Response):
            try:
                await result(scope, receive, send)
            except Exception:
                scope[STARTED] = True
                raise
            return
        if self.text or type(result) is str:
            body, kind = (result if type(result) is str else str(result)).encode(), _TEXT
        else:
            body, kind = self.encode(result), _JSON
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": [kind, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        except Exception:
            scope[STARTED] = True
            raise
        if "plait.background" in scope:
            await scope["plait.background"].run(functools.partial(run_task, self.container))

    async def _direct(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan
        request = Request(scope, receive) if self.extractors or plan.body is not None else None
        try:
            kwargs = await self._arguments(request) if request is not None else {}
            if self.is_async:
                result = await self.fn(**kwargs)
            else:
                result = await self.container.pool.run(self.fn, **kwargs)
        except Exception as exc:
            await self._fail(scope, receive, send, request, exc)
            return
        if self.simple and not isinstance(result, Response):
            if self.text or type(result) is str:
                body, kind = str(result).encode("utf-8"), _TEXT
            else:
                body, kind = self.encode(result), _JSON  # an output error here is a 500 (nothing sent yet)
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": [kind, (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            except Exception:
                scope[STARTED] = True
                raise
        else:
            try:
                await self.respond(scope, receive, send, result)
            except Exception:
                scope[STARTED] = True
                raise
        if "plait.background" in scope:
            await scope["plait.background"].run(functools.partial(run_task, self.container))

    async def _arguments(self, request: Request) -> dict[str, Any]:
        """Every argument straight from the request, with all their errors in one 422."""
        kwargs: dict[str, Any] = {}
        errors: list[Any] | None = None
        for name, extractor in self.extractors:
            try:
                kwargs[name] = extractor.extract(request)
            except RequestValidationError as exc:
                errors = [*(errors or []), *exc.errors]
        plan = self.plan
        if plan.body is not None:
            try:
                value = await plan.body.extract(request)
            except RequestValidationError as exc:
                errors = [*(errors or []), *exc.errors]
            else:
                if plan.body_names is None:
                    kwargs[plan.body_fields[0].name] = value
                else:
                    for name in plan.body_names:
                        kwargs[name] = getattr(value, name)
        if errors:
            raise RequestValidationError(errors)
        return kwargs

    async def _fail(self, scope: Scope, receive: Receive, send: Send, request: Request | None, exc: Exception) -> None:
        response = await handle(self.table, request or Request(scope, receive), exc)
        if response is None:
            raise exc
        await response(scope, receive, send)

    async def _general(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        guard = ResponseGuard(send)
        try:
            if self.needs_stack or self.container.overrides:
                async with contextlib.AsyncExitStack() as stack:
                    await self._run(request, Solver(self.container, request, stack), guard)
                if not guard.started:
                    raise RuntimeError(
                        f"A generator provider of {self.plan.name} swallowed the handler's exception, so there is "
                        "no response to send; re-raise it after your cleanup (use try/finally around the yield)."
                    )
            else:
                await self._run(request, Solver(self.container, request, None), guard)
        except Exception as exc:
            if guard.started:
                scope[STARTED] = True
                raise
            response = await handle(self.table, request, exc)
            if response is None:
                raise
            await response(scope, receive, send)
            return  # the handler failed: the work it scheduled goes with it
        finally:
            await request.close()
        tasks = scope.get("plait.background")
        if tasks is not None:  # after the response and the providers' cleanup
            await tasks.run(functools.partial(run_task, self.container))

    async def _run(self, request: Request, solver: Solver, send: Send) -> None:
        for dep in self.guards:
            await solver.resolve(dep)
        plan = self.plan
        result = await solver.invoke(plan, await solver.arguments(plan))
        await self.respond(request.scope, request._receive, send, result)

    async def respond(self, scope: Scope, receive: Receive, send: Send, result: Any) -> None:
        if isinstance(result, Response):
            await result(scope, receive, send)
            return
        status = self.status_code
        if self.response_class is not None:
            await self.response_class(result, status_code=status)(scope, receive, send)
            return
        if status in _NO_BODY:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        # PERF: text and JSON results skip the Response object: one encode and two messages.
        if self.text or isinstance(result, str):
            body = str(result).encode("utf-8")
            headers = [_TEXT, (b"content-length", str(len(body)).encode())]
        else:
            body = self.encode(result)
            headers = [_JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _is_response_type(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, Response)


class WebSocketEndpoint:
    """Runs one WebSocket handler: checks the origin, gathers arguments, closes cleanly whatever happens."""

    __slots__ = ("container", "guards", "origins", "plan")

    def __init__(self, plan: CallPlan, guards: list[Dependency], container: Container, origins: Sequence[str]) -> None:
        self.plan = plan
        self.guards = guards
        self.container = container
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = scope["app"].settings if "app" in scope else None
        limit = settings.websocket_max_message_size if settings is not None else 1024 * 1024
        ws = WebSocket(scope, receive, send, max_message_size=limit)
        if self.origins and ws.headers.get("origin") not in self.origins:
            await ws.close(WebSocketClose.POLICY_VIOLATION, "origin not allowed")  # before accept: a 403
            return
        try:
            async with contextlib.AsyncExitStack() as stack:
                solver = Solver(self.container, ws, stack)  # type: ignore[arg-type]
                for dep in self.guards:
                    await solver.resolve(dep)
                await solver.invoke(self.plan, await solver.arguments(self.plan))
        except WebSocketDisconnect:
            pass
        except HTTPException as exc:  # a validation error or a refusal from a provider
            await ws.close(WebSocketClose.POLICY_VIOLATION, _close_reason(exc))
            return  # as for HTTP, a failed handler's background tasks are dropped
        except Exception:
            logger.exception("Unhandled error in WebSocket %s", scope.get("path"))
            await ws.close(WebSocketClose.INTERNAL_ERROR, "internal error")
            return
        else:
            await ws.close(WebSocketClose.NORMAL)
        tasks = scope.get("plait.background")
        if tasks is not None:  # after the connection has closed and the providers' cleanup
            await tasks.run(functools.partial(run_task, self.container))


async def run_task(container: Container, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Call one background task, filling the ``Depends`` parameters its caller left out.

    Only those are resolved: the arguments given to ``add_task`` pass through untouched, whatever
    their types, and parameters with ordinary defaults keep them.
    """
    async with contextlib.AsyncExitStack() as stack:
        solver = Solver(container, None, stack)
        resolved = {name: await solver.resolve(dep) for name, dep in _task_dependencies(container, fn, args, kwargs)}
        if call_kind(fn) is CallKind.ASYNC:
            result = fn(*args, **kwargs, **resolved)
        else:
            result = await container.pool.run(functools.partial(fn, *args, **kwargs, **resolved))
        if inspect.isawaitable(result):  # an async callable the checks above could not recognise
            await result


def _task_dependencies(
    container: Container, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[str, Dependency]]:
    try:
        signature = inspect.signature(fn)
    except ValueError:  # a builtin without a signature asks for no providers
        return []
    given = signature.bind_partial(*args, **kwargs).arguments
    target = fn if inspect.isroutine(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # an annotation that does not resolve cannot hold a Depends marker we could use
        hints = {}
    found = []
    for param in signature.parameters.values():
        if param.name in given or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        marker: Depends | None = find_marker(hints.get(param.name), param.default, Depends)
        if marker is not None:
            plan = container.plan_for(marker.dependency)
            found.append((param.name, Dependency(plan, marker.use_cache, marker.scope)))
    return found


def _close_reason(exc: HTTPException) -> str:
    """A close reason that says what to fix: the first bad parameter for a validation error."""
    if isinstance(exc, RequestValidationError) and exc.errors:
        first = exc.errors[0]
        where = ".".join(str(part) for part in first.loc)
        more = f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        return f"{where}: {first.msg}{more}"
    return exc.detail

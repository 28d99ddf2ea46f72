"""Test clients that call a Plait app (or any ASGI app) in-process, with no server and no sockets.

:class:`TestClient` is a synchronous ``httpx.Client``; :class:`AsyncTestClient` is an
``httpx.AsyncClient``. Both stream responses as the app produces them, run the ASGI lifespan
when used as a context manager, and can swap dependency providers for the length of a test.
Both open WebSockets to the app too (``websocket_connect``; see :mod:`plait.testing.websocket`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
import anyio.abc
import anyio.from_thread
import httpx

from plait._types import ASGIApp, Message, RawHeaders, Scope
from plait.testing.websocket import (
    DEFAULT_TIMEOUT,
    AsyncWebSocketTestSession,
    WebSocketTestSession,
    handshake_headers,
    websocket_scope,
)

__all__ = ["CLIENT_ADDRESS", "AsyncTestClient", "TestClient"]

CLIENT_ADDRESS = ("testclient", 50000)
"""The ``client`` of every request scope: what ``request.client`` shows in tests."""

_ASGI = {"version": "3.0", "spec_version": "2.4"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _http_scope(request: httpx.Request, state: dict[str, Any] | None) -> Scope:
    """The ASGI ``http`` scope for an httpx request."""
    url = request.url
    scope: Scope = {
        "type": "http",
        "asgi": dict(_ASGI),
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "root_path": "",
        "query_string": url.query,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": CLIENT_ADDRESS,
        "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
        "extensions": {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


def _handshake_scope(
    client: httpx.Client | httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str] | None,
    subprotocols: Sequence[str],
    state: dict[str, Any] | None,
) -> Scope:
    """The ``websocket`` scope for ``url``, with the client's base URL, default headers and cookies."""
    request = client.build_request("GET", url, headers=handshake_headers(headers, subprotocols))
    return websocket_scope(_http_scope(request, state), subprotocols)


class _Exchange:
    """One request through an ASGI app, the response read message by message as it is sent.

    Create it inside the event loop that will run it. ``run`` drives the app; the reader calls
    ``start``, then ``next_chunk`` until it returns None, then ``aclose``.
    """

    def __init__(self, app: ASGIApp, scope: Scope, body: bytes, raise_errors: bool) -> None:
        self.app = app
        self.scope = scope
        self.body = body
        self.raise_errors = raise_errors
        self._outbox, self._inbox = anyio.create_memory_object_stream[Message]()
        self._disconnected = anyio.Event()
        self._done = anyio.Event()
        self._cancel = anyio.CancelScope()
        self._body_sent = False
        self.complete = False
        self.error: Exception | None = None

    async def run(self) -> None:
        try:
            with self._cancel:
                await self.app(self.scope, self._receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self._outbox.close()
            self._done.set()

    async def _receive(self) -> Message:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        try:
            await self._outbox.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise OSError("The test client closed the response; the app cannot send more of it.") from None

    async def _next_message(self) -> Message | None:
        try:
            message = await self._inbox.receive()
        except anyio.EndOfStream:
            return None
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        return message

    async def start(self) -> tuple[int, RawHeaders]:
        """Wait for ``http.response.start``; the status and headers."""
        message = await self._next_message()
        if message is None:
            if self.error is not None and self.raise_errors:
                raise self.error
            if self.error is not None:
                return 500, []
            raise RuntimeError(
                "The ASGI app returned without sending a response; make sure every request path "
                "sends 'http.response.start' and 'http.response.body'."
            )
        if message["type"] != "http.response.start":
            raise RuntimeError(
                f"The ASGI app sent {message['type']!r} before 'http.response.start'; "
                "send the status and headers first."
            )
        return message["status"], list(message.get("headers", []))

    async def next_chunk(self) -> bytes | None:
        """The next non-empty piece of the body, or None once it is complete."""
        while not self.complete:
            message = await self._next_message()
            if message is None:
                if self.error is not None and self.raise_errors:
                    raise self.error
                return None
            body: bytes = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if body:
                return body
        return None

    async def aclose(self) -> None:
        """Disconnect; stop the app unless the response was complete, then wait for it to return."""
        with anyio.CancelScope(shield=True):
            self._disconnected.set()
            if not self.complete:
                self._cancel.cancel()
            self._inbox.close()
            await self._done.wait()
        if self.complete and self.error is not None and self.raise_errors:
            raise self.error  # raised after the response, e.g. by work done once the body was sent


async def _new_exchange(app: ASGIApp, scope: Scope, body: bytes, raise_errors: bool) -> _Exchange:
    return _Exchange(app, scope, body, raise_errors)


class _Lifespan:
    """Runs the ASGI lifespan protocol against an app. Create it inside its event loop."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._startup_reply = anyio.Event()
        self._shutdown_requested = anyio.Event()
        self._finished = anyio.Event()
        self._receives = 0
        self.started = False
        self.failure: str | None = None
        self.error: Exception | None = None

    async def run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": dict(_ASGI), "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self._finished.set()
            self._startup_reply.set()

    async def _receive(self) -> Message:
        self._receives += 1
        if self._receives == 1:
            return {"type": "lifespan.startup"}
        await self._shutdown_requested.wait()
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self.started = True
            self._startup_reply.set()
        elif kind in ("lifespan.startup.failed", "lifespan.shutdown.failed"):
            self.failure = message.get("message", "") or "(no message)"
            self._startup_reply.set()

    async def startup(self) -> None:
        """Wait for the app to start; raise what it raised (or reported) if it could not."""
        await self._startup_reply.wait()
        if self.started:
            return
        await self._finished.wait()
        if self.error is not None and self._receives > 0:
            self.error.add_note(
                "The app raised this while starting up (ASGI lifespan). An app without lifespan support "
                "should return at once for scope type 'lifespan'; or use the client without 'with'."
            )
            raise self.error
        if self.failure is not None:
            raise RuntimeError(f"The app failed to start:\n{self.failure}")
        # The app returned (or raised) without reading the startup event: it has no lifespan.

    async def shutdown(self) -> None:
        """Ask the app to stop and wait for it; raise what it raised (or reported) if it failed."""
        if not self.started:
            return
        self._shutdown_requested.set()
        await self._finished.wait()
        if self.error is not None:
            raise self.error
        if self.failure is not None:
            raise RuntimeError(f"The app failed to shut down:\n{self.failure}")


async def _new_lifespan(app: ASGIApp) -> _Lifespan:
    return _Lifespan(app)


class _Overrides:
    """Dependency overrides put into ``app.dependency_overrides`` for a client's lifetime."""

    def __init__(self, app: object, overrides: Mapping[Any, Any] | None) -> None:
        self.wanted = dict(overrides or {})
        self.saved: dict[Any, Any] | None = None
        table = getattr(app, "dependency_overrides", None)
        if self.wanted and not isinstance(table, MutableMapping):
            raise TypeError(
                f"dependency_overrides= needs an app with a dependency_overrides mapping, such as a Plait "
                f"app; {type(app).__name__} has none. Pass the Plait app itself, not a wrapper around it."
            )
        self.table: MutableMapping[Any, Any] = table if isinstance(table, MutableMapping) else {}

    def apply(self) -> None:
        if self.saved is not None or not self.wanted:
            return
        self.saved = {key: self.table[key] for key in self.wanted if key in self.table}
        self.table.update(self.wanted)

    def restore(self) -> None:
        if self.saved is None:
            return
        for key in self.wanted:
            if key in self.saved:
                self.table[key] = self.saved[key]
            else:
                self.table.pop(key, None)
        self.saved = None


class _Closable(Protocol):
    def close(self) -> None: ...


class _SyncBody(httpx.SyncByteStream):
    """The body of a response from :class:`TestClient`; closing it ends the exchange (and its portal)."""

    def __init__(
        self,
        portal: anyio.from_thread.BlockingPortal,
        exchange: _Exchange,
        owned: contextlib.ExitStack,
        registry: set[_Closable],
    ) -> None:
        self._portal = portal
        self._exchange = exchange
        self._owned = owned
        self._registry = registry
        registry.add(self)

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._portal.call(self._exchange.next_chunk)) is not None:
            yield chunk

    def close(self) -> None:
        self._registry.discard(self)
        self._owned.close()


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        client._overrides.apply()
        scope = _http_scope(request, client._app_state)
        body = request.read()
        stack = contextlib.ExitStack()
        try:
            portal = stack.enter_context(client._portal_for_request())
            exchange = portal.call(_new_exchange, client.app, scope, body, client.raise_server_exceptions)
            portal.start_task_soon(exchange.run)
            stack.callback(portal.call, exchange.aclose)
            status, headers = portal.call(exchange.start)
            owned = stack.pop_all()
        except BaseException:
            stack.close()
            raise
        return httpx.Response(status, headers=headers, stream=_SyncBody(portal, exchange, owned, client._open))

    def close(self) -> None:
        _close_all(self.client._open)
        self.client._overrides.restore()


def _close_all(bodies: set[_Closable]) -> None:
    """Close the responses and WebSockets a test left open (each stops its app), so the portal can stop."""
    for body in list(bodies):
        body.close()


class TestClient(httpx.Client):
    """A synchronous HTTP client that calls an ASGI app directly, for tests.

    >>> from plait.app import Plait
    >>> app = Plait()
    >>> @app.get("/")
    ... def hello() -> dict[str, str]:
    ...     return {"hello": "world"}
    >>> with TestClient(app) as client:  # runs the app's startup and shutdown
    ...     client.get("/").json()
    {'hello': 'world'}

    Without ``with``, requests still work but the lifespan does not run. Responses stream as
    the app sends them (``with client.stream("GET", "/events") as r: ...``).
    ``dependency_overrides`` are put into ``app.dependency_overrides`` on entering (or on the
    first request) and taken out again on close. With ``raise_server_exceptions`` (the default),
    an exception that escapes the app is raised in the test; otherwise it becomes a 500 response.
    (A Plait app answers its handlers' unexpected errors with a 500 itself and logs them on the
    ``plait.error`` logger, so for Plait this matters for errors in raw ASGI middleware.)
    ``backend`` picks the anyio event loop the app runs on (``"asyncio"`` or ``"trio"``).

    Redirects are followed (``follow_redirects=False``, here or per request, shows the 3xx itself).
    Cookies the app sets are sent back on later requests, as a browser would: those without
    ``Secure`` on ``http://testserver``; ``Secure`` ones (Plait's ``set_cookie`` default) only over
    HTTPS, so test them with ``TestClient(app, base_url="https://testserver")``.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        dependency_overrides: Mapping[Any, Any] | None = None,
        raise_server_exceptions: bool = True,
        backend: str = "asyncio",
        backend_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self._overrides = _Overrides(app, dependency_overrides)
        self._backend = backend
        self._backend_options = dict(backend_options or {})
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._lifespan: _Lifespan | None = None
        self._app_state: dict[str, Any] | None = None
        self._open: set[_Closable] = set()
        self._exit = contextlib.ExitStack()
        options.setdefault("follow_redirects", True)  # as Starlette's TestClient: pass False to see the 3xx
        super().__init__(base_url=base_url, transport=_SyncTransport(self), **options)

    def _portal_for_request(self) -> AbstractContextManager[anyio.from_thread.BlockingPortal]:
        if self._portal is not None:
            return contextlib.nullcontext(self._portal)
        return anyio.from_thread.start_blocking_portal(self._backend, self._backend_options)

    def __enter__(self) -> Self:
        super().__enter__()
        with contextlib.ExitStack() as undo:
            undo.callback(self._overrides.restore)
            undo.push(super().__exit__)
            self._portal = self._exit.enter_context(self._portal_for_request())
            undo.callback(self._stop_portal)
            self._overrides.apply()
            lifespan = self._portal.call(_new_lifespan, self.app)
            self._portal.start_task_soon(lifespan.run)
            self._portal.call(lifespan.startup)
            self._lifespan, self._app_state = lifespan, lifespan.state if lifespan.started else None
            undo.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            _close_all(self._open)
            if self._lifespan is not None and self._portal is not None:
                self._portal.call(self._lifespan.shutdown)
        finally:
            self._lifespan = self._app_state = None
            self._stop_portal()
            super().__exit__(exc_type, exc_value, traceback)

    def _stop_portal(self) -> None:
        self._portal = None
        self._exit.close()

    def websocket_connect(
        self,
        url: str,
        *,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app; returns once the app has accepted it.

        >>> with client.websocket_connect("/ws/lobby?nick=ada", headers={"origin": "https://a.test"}) as ws:
        ...     ws.send_json({"say": "hi"})  # doctest: +SKIP

        Raises :class:`~plait.testing.WebSocketDenied` (with the app's close code and reason) if the
        app closes the connection before accepting it. ``timeout`` bounds every wait for the app.
        """
        self._overrides.apply()
        scope = _handshake_scope(self, url, headers, subprotocols or (), self._app_state)
        return WebSocketTestSession.connect(
            self._portal_for_request(),
            self.app,
            scope,
            raise_errors=self.raise_server_exceptions,
            timeout=timeout,
            registry=self._open,
        )


class _AsyncBody(httpx.AsyncByteStream):
    """The body of a response from :class:`AsyncTestClient` inside ``async with``."""

    def __init__(self, exchange: _Exchange, registry: set[_AsyncBody]) -> None:
        self._exchange = exchange
        self._registry = registry
        registry.add(self)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._registry.discard(self)
        await self._exchange.aclose()


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        client._overrides.apply()
        scope = _http_scope(request, client._app_state)
        exchange = _Exchange(client.app, scope, await request.aread(), client.raise_server_exceptions)
        if client._group is None:
            return await _buffered(exchange)
        client._group.start_soon(exchange.run)
        try:
            status, headers = await exchange.start()
        except BaseException:
            await exchange.aclose()
            raise
        return httpx.Response(status, headers=headers, stream=_AsyncBody(exchange, client._open))

    async def aclose(self) -> None:
        self.client._overrides.restore()


async def _buffered(exchange: _Exchange) -> httpx.Response:
    """Run one exchange to the end in a task group of its own and keep the whole body."""
    chunks: list[bytes] = []
    async with anyio.create_task_group() as group:
        group.start_soon(exchange.run)
        try:
            status, headers = await exchange.start()
            while (chunk := await exchange.next_chunk()) is not None:
                chunks.append(chunk)
        finally:
            await exchange.aclose()
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)))


class AsyncTestClient(httpx.AsyncClient):
    """An async HTTP client that calls an ASGI app directly, for async tests.

    >>> async def test_hello(app: Plait) -> None:  # doctest: +SKIP
    ...     async with AsyncTestClient(app) as client:  # runs the app's startup and shutdown
    ...         response = await client.get("/")
    ...         assert response.json() == {"hello": "world"}

    Inside ``async with``, responses stream as the app sends them; without it the lifespan
    does not run and each response is read whole before it is returned. The other options
    mean what they mean for :class:`TestClient`.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        dependency_overrides: Mapping[Any, Any] | None = None,
        raise_server_exceptions: bool = True,
        **options: Any,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self._overrides = _Overrides(app, dependency_overrides)
        self._group: anyio.abc.TaskGroup | None = None
        self._lifespan: _Lifespan | None = None
        self._app_state: dict[str, Any] | None = None
        self._open: set[_AsyncBody] = set()
        self._exit = contextlib.AsyncExitStack()
        options.setdefault("follow_redirects", True)
        super().__init__(base_url=base_url, transport=_AsyncTransport(self), **options)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        async with contextlib.AsyncExitStack() as undo:
            undo.push_async_exit(super().__aexit__)
            undo.callback(self._overrides.restore)
            self._group = await self._exit.enter_async_context(anyio.create_task_group())
            undo.push_async_callback(self._stop_group)
            self._overrides.apply()
            lifespan = _Lifespan(self.app)
            self._group.start_soon(lifespan.run)
            await lifespan.startup()
            self._lifespan, self._app_state = lifespan, lifespan.state if lifespan.started else None
            undo.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            for body in list(self._open):  # responses the test left open stop their apps first
                await body.aclose()
            if self._lifespan is not None:
                await self._lifespan.shutdown()
        finally:
            self._lifespan = self._app_state = None
            await self._stop_group()
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        *,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AsyncWebSocketTestSession:
        """A WebSocket to the app, opened by ``async with`` (see :meth:`TestClient.websocket_connect`).

        >>> async with client.websocket_connect("/ws/lobby") as ws:  # doctest: +SKIP
        ...     await ws.send_text("hi")
        """
        self._overrides.apply()
        scope = _handshake_scope(self, url, headers, subprotocols or (), self._app_state)
        return AsyncWebSocketTestSession(self.app, scope, raise_errors=self.raise_server_exceptions, timeout=timeout)

    async def _stop_group(self) -> None:
        if self._group is not None:
            self._group.cancel_scope.cancel()  # anything still running was left behind by the test
            self._group = None
        await self._exit.aclose()

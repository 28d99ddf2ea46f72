"""WebSocket sessions for the test clients: talk to a WebSocket handler in-process, message by message.

>>> from plait.app import Plait
>>> from plait.testing import TestClient
>>> from plait.websockets import WebSocket
>>> app = Plait()
>>> @app.websocket("/echo")
... async def echo(ws: WebSocket) -> None:
...     await ws.accept()
...     async for text in ws.iter_text():
...         await ws.send_text(text.upper())
>>> with TestClient(app) as client, client.websocket_connect("/echo") as ws:
...     ws.send_text("hello")
...     ws.receive_text()
'HELLO'

``TestClient.websocket_connect`` returns a :class:`WebSocketTestSession` once the app has accepted
the connection, or raises :class:`WebSocketDenied` if the app closed it first.
``AsyncTestClient.websocket_connect`` returns an :class:`AsyncWebSocketTestSession` for
``async with``. Every wait for the app is bounded by ``timeout`` (5 s unless told), so an app that
never answers fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Awaitable, Callable, Mapping, MutableSet, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Self, TypeVar, overload

import anyio
import anyio.from_thread
import httpx
import msgspec

from plait._types import ASGIApp, Message, Scope
from plait.websockets import WebSocketDisconnect

__all__ = ["DEFAULT_TIMEOUT", "AsyncWebSocketTestSession", "WebSocketDenied", "WebSocketTestSession"]

T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0
"""Seconds a WebSocket session waits for the app (handshake, each receive, the close) by default."""

_ABNORMAL = 1006  # RFC 6455: the connection ended without a close frame
# The handshake is never answered over a network, so a fixed key is as good as a random one.
_KEY = "cGxhaXQtdGVzdC1rZXkhIQ=="


class WebSocketDenied(WebSocketDisconnect):
    """The app refused the connection: it closed (or returned) before accepting it.

    A server would answer such a handshake with HTTP 403 and the client would never see the close
    code; a test can read ``code`` and ``reason`` here (1008 for an origin that is not allowed, say).
    Being a ``WebSocketDisconnect``, it is also caught by ``pytest.raises(WebSocketDisconnect)``.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.args = (f"The app refused the WebSocket connection with code {code}" + (f": {reason}" if reason else ""),)


def handshake_headers(headers: Mapping[str, str] | None, subprotocols: Sequence[str]) -> dict[str, str]:
    """The headers of an opening handshake, with the caller's own ``headers`` applied last."""
    wanted = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": _KEY,
    }
    if subprotocols:
        wanted["sec-websocket-protocol"] = ", ".join(subprotocols)
    wanted.update((name.lower(), value) for name, value in (headers or {}).items())
    return wanted


def websocket_scope(http_scope: Scope, subprotocols: Sequence[str]) -> Scope:
    """The ASGI ``websocket`` scope of a handshake, made from the ``http`` scope of its GET request."""
    scope = dict(http_scope)
    scope.pop("method", None)
    scope["type"] = "websocket"
    scope["scheme"] = "wss" if http_scope["scheme"] == "https" else "ws"
    scope["subprotocols"] = list(subprotocols)
    return scope


class _Connection:
    """The app's side of one WebSocket: runs the app and carries messages both ways.

    Create it inside the event loop that will run it. Once either side closes, the app's next
    ``receive`` is a ``websocket.disconnect`` and its sends raise ``OSError``, as on a server.
    """

    def __init__(self, app: ASGIApp, scope: Scope, raise_errors: bool) -> None:
        self.app = app
        self.scope = scope
        self.raise_errors = raise_errors
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._from_app, self._client_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app.send_nowait({"type": "websocket.connect"})
        self._done = anyio.Event()
        self._cancel = anyio.CancelScope()
        self.close_code: int | None = None
        self.close_reason = ""
        self.error: Exception | None = None
        self._error_raised = False

    async def run(self) -> None:
        try:
            with self._cancel:
                await self.app(self.scope, self._receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self._from_app.close()
            self._done.set()

    async def _receive(self) -> Message:
        try:
            return await self._app_inbox.receive()
        except anyio.EndOfStream:
            return {"type": "websocket.disconnect", "code": self.close_code, "reason": self.close_reason}

    async def _send(self, message: Message) -> None:
        if self.close_code is not None:
            raise OSError("The WebSocket is closed; the app cannot send on it any more.")
        if message["type"] == "websocket.close":
            # A server drops what the client sent after its own close frame.
            self.hang_up(message.get("code", 1000), message.get("reason") or "", drop_unread=True)
        self._from_app.send_nowait(message)

    def push(self, message: Message) -> None:
        """Deliver a client message; once the connection is closed it is lost, as on a network."""
        if self.close_code is None:
            self._to_app.send_nowait(message)

    def hang_up(self, code: int, reason: str = "", *, drop_unread: bool = False) -> None:
        """Close the connection (no-op once closed): the app reads what is left, then a disconnect."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        self._to_app.close()
        if drop_unread:
            with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):
                while True:
                    self._app_inbox.receive_nowait()

    async def next_message(self, timeout: float) -> Message | None:
        """The app's next message, or None once it has returned and everything it sent was read."""
        try:
            with anyio.fail_after(timeout):
                message = await self._client_inbox.receive()
        except anyio.EndOfStream:
            self.raise_error()
            return None
        except TimeoutError:
            raise TimeoutError(
                f"The app sent nothing on the WebSocket for {timeout} s. Check that it accepts the connection "
                "and answers this message, or pass a longer timeout= to websocket_connect()."
            ) from None
        return message

    async def finish(self, timeout: float) -> None:
        """Wait for the app to return (cancelling it after ``timeout``), then raise what it raised."""
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(timeout):
                await self._done.wait()
            self._cancel.cancel()  # does nothing if the app has returned
            await self._done.wait()
        for stream in (self._to_app, self._app_inbox, self._client_inbox):
            stream.close()
        self.raise_error()

    def raise_error(self) -> None:
        """Raise the exception that escaped the app (once), if the client was told to."""
        if self.error is not None and self.raise_errors and not self._error_raised:
            self._error_raised = True
            raise self.error


class AsyncWebSocketTestSession:
    """One WebSocket connection from :class:`~plait.testing.AsyncTestClient`; use it with ``async with``.

    >>> async with client.websocket_connect("/echo") as ws:  # doctest: +SKIP
    ...     await ws.send_json({"n": 1})
    ...     assert await ws.receive_json() == {"n": 1}

    Entering waits for the app to accept (:class:`WebSocketDenied` if it refuses); leaving closes
    the connection with 1000 and waits for the app to return. The methods are those of
    :class:`WebSocketTestSession`, awaited.
    """

    def __init__(self, app: ASGIApp, scope: Scope, *, raise_errors: bool, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.accepted_subprotocol: str | None = None
        """The subprotocol the app chose when it accepted, if any."""
        self.extra_headers = httpx.Headers()
        """The headers the app sent with its accept."""
        self._conn = _Connection(app, scope, raise_errors)
        self._close: Message | None = None  # the app's close message, once received
        self._closed = False  # closed by the test (or never opened)
        self._exit = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Self:
        group = await self._exit.enter_async_context(anyio.create_task_group())
        group.start_soon(self.run_app)
        try:
            await self.handshake()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await self.close()
        finally:
            await self._exit.aclose()

    async def run_app(self) -> None:
        """Run the app for this connection (started once, by whoever opens the session)."""
        await self._conn.run()

    async def handshake(self) -> None:
        """Wait for the app to accept the connection; raise :class:`WebSocketDenied` if it refuses."""
        try:
            message = await self._conn.next_message(self.timeout)
        except BaseException:
            self._closed = True
            await self._conn.finish(0)
            raise
        if message is not None and message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = httpx.Headers(list(message.get("headers") or []))
            return
        self._closed = True
        self._conn.hang_up(_ABNORMAL)
        await self._conn.finish(self.timeout)
        raise _refusal(message, self._conn.error)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This WebSocket session is closed; open a new one with websocket_connect().")

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app (normally a ``websocket.receive``)."""
        self._check_open()
        self._conn.push(message)

    async def send_text(self, text: str) -> None:
        await self.send({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, value: Any, *, binary: bool = False) -> None:
        """Encode ``value`` as JSON and send it (as a binary message with ``binary=True``)."""
        payload = msgspec.json.encode(value)
        await (self.send_bytes(payload) if binary else self.send_text(payload.decode("utf-8")))

    async def receive(self, *, timeout: float | None = None) -> Message:
        """The app's next raw message: a ``websocket.send``, or its ``websocket.close`` (again on every call after).

        An app that returned without closing reads as a close with code 1006.
        """
        self._check_open()
        if self._close is not None:
            return dict(self._close)
        message = await self._conn.next_message(self.timeout if timeout is None else timeout)
        if message is None:
            message = {"type": "websocket.close", "code": _ABNORMAL, "reason": "the app returned without closing"}
        kind = message["type"]
        if kind == "websocket.close":
            self._close = {"type": kind, "code": message.get("code", 1000), "reason": message.get("reason") or ""}
            return dict(self._close)
        if kind != "websocket.send":
            raise RuntimeError(
                f"The ASGI app sent {kind!r} on an open WebSocket; only 'websocket.send' and 'websocket.close' "
                "belong there."
            )
        return message

    async def _receive_data(self, timeout: float | None) -> Message:
        message = await self.receive(timeout=timeout)
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message["code"], message["reason"])
        return message

    async def receive_text(self, *, timeout: float | None = None) -> str:
        """The next text message; ``WebSocketDisconnect`` (with the app's code) if the app closed instead."""
        message = await self._receive_data(timeout)
        text: str | None = message.get("text")
        if text is None:
            raise TypeError(f"Expected a text message; the app sent binary data ({message.get('bytes')!r:.60}).")
        return text

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """The next binary message; ``WebSocketDisconnect`` (with the app's code) if the app closed instead."""
        message = await self._receive_data(timeout)
        data: bytes | None = message.get("bytes")
        if data is None:
            raise TypeError(f"Expected a binary message; the app sent text ({message.get('text')!r:.60}).")
        return data

    @overload
    async def receive_json(self, *, timeout: float | None = None) -> Any: ...
    @overload
    async def receive_json(self, type: type[T], *, timeout: float | None = None) -> T: ...
    async def receive_json(self, type: Any = Any, *, timeout: float | None = None) -> Any:
        """The next message (text or binary) decoded as JSON, into ``type`` if given."""
        message = await self._receive_data(timeout)
        text = message.get("text")
        payload = text.encode("utf-8") if text is not None else message.get("bytes") or b""
        return msgspec.json.decode(payload, type=type)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait for the app to return; raise what escaped it (if told to)."""
        if self._closed:
            return
        self._closed = True
        self._conn.hang_up(code, reason)
        await self._conn.finish(self.timeout)


def _refusal(message: Message | None, error: Exception | None) -> Exception:
    """What to raise when the app answered the handshake with something other than an accept."""
    if message is None:
        done = f"raised {type(error).__name__}: {error}" if error is not None else "returned"
        return WebSocketDenied(_ABNORMAL, f"the app {done} without accepting the connection")
    if message["type"] == "websocket.close":
        return WebSocketDenied(message.get("code", 1000), message.get("reason") or "")
    return RuntimeError(
        f"The ASGI app sent {message['type']!r} before 'websocket.accept'; accept the connection first "
        "(or close it to refuse)."
    )


async def _new_session(app: ASGIApp, scope: Scope, raise_errors: bool, timeout: float) -> AsyncWebSocketTestSession:
    return AsyncWebSocketTestSession(app, scope, raise_errors=raise_errors, timeout=timeout)


class WebSocketTestSession:
    """One WebSocket connection from :class:`~plait.testing.TestClient`, driven from the test's thread.

    ``websocket_connect`` returns it once the app has accepted. Use it in a ``with`` block, so the
    connection is closed (with 1000) and the app has returned when the block ends. Receiving waits
    at most ``timeout`` seconds (``TimeoutError`` after); once the app has closed the connection,
    ``receive_text``, ``receive_bytes`` and ``receive_json`` raise ``WebSocketDisconnect`` carrying
    its code and reason. With ``raise_server_exceptions``, an exception that escapes the app is
    raised by the receive that finds the app gone, or else by ``close``.
    """

    def __init__(
        self,
        portal: anyio.from_thread.BlockingPortal,
        session: AsyncWebSocketTestSession,
        owned: contextlib.ExitStack,
        registry: MutableSet[Any],
    ) -> None:
        self._portal = portal
        self._session = session
        self._owned: contextlib.ExitStack | None = owned
        self._registry = registry
        registry.add(self)

    @classmethod
    def connect(
        cls,
        portal_context: AbstractContextManager[anyio.from_thread.BlockingPortal],
        app: ASGIApp,
        scope: Scope,
        *,
        raise_errors: bool,
        timeout: float,
        registry: MutableSet[Any],
    ) -> WebSocketTestSession:
        """Start the app in the portal and complete the handshake (what ``websocket_connect`` does)."""
        stack = contextlib.ExitStack()
        try:
            portal = stack.enter_context(portal_context)
            session = portal.call(_new_session, app, scope, raise_errors, timeout)
            portal.start_task_soon(session.run_app)
            portal.call(session.handshake)
        except BaseException:
            stack.close()  # the app has returned by now; stop the portal if it was started for this session
            raise
        return cls(portal, session, stack, registry)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()

    @property
    def accepted_subprotocol(self) -> str | None:
        """The subprotocol the app chose when it accepted, if any."""
        return self._session.accepted_subprotocol

    @property
    def extra_headers(self) -> httpx.Headers:
        """The headers the app sent with its accept."""
        return self._session.extra_headers

    def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        if self._owned is None:  # its portal may be gone: say what happened instead
            raise RuntimeError("This WebSocket session is closed; open a new one with websocket_connect().")
        return self._portal.call(fn, *args)

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app (normally a ``websocket.receive``)."""
        self._call(self._session.send, message)

    def send_text(self, text: str) -> None:
        self._call(self._session.send_text, text)

    def send_bytes(self, data: bytes) -> None:
        self._call(self._session.send_bytes, data)

    def send_json(self, value: Any, *, binary: bool = False) -> None:
        """Encode ``value`` as JSON and send it (as a binary message with ``binary=True``)."""
        self._call(functools.partial(self._session.send_json, value, binary=binary))

    def receive(self, *, timeout: float | None = None) -> Message:
        """The app's next raw message: a ``websocket.send``, or its ``websocket.close`` (again on every call after)."""
        return self._call(functools.partial(self._session.receive, timeout=timeout))

    def receive_text(self, *, timeout: float | None = None) -> str:
        return self._call(functools.partial(self._session.receive_text, timeout=timeout))

    def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        return self._call(functools.partial(self._session.receive_bytes, timeout=timeout))

    @overload
    def receive_json(self, *, timeout: float | None = None) -> Any: ...
    @overload
    def receive_json(self, type: type[T], *, timeout: float | None = None) -> T: ...
    def receive_json(self, type: Any = Any, *, timeout: float | None = None) -> Any:
        """The next message (text or binary) decoded as JSON, into ``type`` (a Struct, say) if given."""
        return self._call(functools.partial(self._session.receive_json, type, timeout=timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait for the app to return; raise what escaped it (if told to)."""
        owned, self._owned = self._owned, None
        if owned is None:
            return
        self._registry.discard(self)
        with owned:  # then stop the portal, if this session started its own
            self._portal.call(self._session.close, code, reason)

"""WebSocket connections: accept, typed receive/send, clean close codes, a message size limit."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar, overload

import msgspec

from plait._types import Message, Receive, Scope, Send
from plait.exceptions import PlaitError
from plait.requests import HTTPConnection

T = TypeVar("T")


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketClose(enum.IntEnum):
    """Close codes Plait uses (RFC 6455 section 7.4)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    UNSUPPORTED_DATA = 1003
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


class WebSocketDisconnect(PlaitError):
    """The peer closed the connection (or Plait closed it, e.g. 1009 for a message too big)."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"WebSocket closed with code {code}" + (f": {reason}" if reason else ""))


class WebSocket(HTTPConnection):
    """One WebSocket connection, handed to a ``@app.websocket`` handler.

    >>> from plait import Plait
    >>> app = Plait()
    >>> @app.websocket("/echo")
    ... async def echo(ws: WebSocket) -> None:
    ...     await ws.accept()
    ...     async for text in ws.iter_text():
    ...         await ws.send_text(text)
    """

    __slots__ = ("_send", "application_state", "client_state", "max_message_size")

    def __init__(self, scope: Scope, receive: Receive, send: Send, *, max_message_size: int = 1024 * 1024) -> None:
        super().__init__(scope, receive)
        self._send = send
        self.max_message_size = max_message_size
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def accept(self, subprotocol: str | None = None, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Complete the handshake (reads the client's connect message first if needed)."""
        if self.client_state is WebSocketState.CONNECTING:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.client_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(message.get("code", 1000))
            self.client_state = WebSocketState.CONNECTED
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw})
        self.application_state = WebSocketState.CONNECTED

    async def receive(self) -> Message:
        """The next raw ASGI message; raises ``WebSocketDisconnect`` when the peer has gone."""
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError("Call accept() before receiving from a WebSocket.")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
        size = len(message.get("bytes") or b"") + len((message.get("text") or "").encode("utf-8"))
        if size > self.max_message_size:
            await self.close(WebSocketClose.MESSAGE_TOO_BIG, "message too big")
            raise WebSocketDisconnect(WebSocketClose.MESSAGE_TOO_BIG, "message too big")
        return message

    async def receive_text(self) -> str:
        message = await self.receive()
        text = message.get("text")
        if text is None:
            await self.close(WebSocketClose.UNSUPPORTED_DATA, "expected a text message")
            raise WebSocketDisconnect(WebSocketClose.UNSUPPORTED_DATA, "expected a text message")
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        data = message.get("bytes")
        if data is None:
            await self.close(WebSocketClose.UNSUPPORTED_DATA, "expected a binary message")
            raise WebSocketDisconnect(WebSocketClose.UNSUPPORTED_DATA, "expected a binary message")
        return data  # type: ignore[no-any-return]

    @overload
    async def receive_json(self) -> Any: ...
    @overload
    async def receive_json(self, type: type[T]) -> T: ...
    async def receive_json(self, type: Any = Any) -> Any:
        """Decode the next message (text or binary) as JSON, validated into ``type``.

        Invalid JSON or a value of the wrong shape closes the connection with 1003.
        """
        message = await self.receive()
        data = message.get("text")
        payload = data.encode("utf-8") if data is not None else message.get("bytes") or b""
        try:
            return msgspec.json.decode(payload, type=type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            reason = f"invalid JSON message: {exc}"[:120]
            await self.close(WebSocketClose.UNSUPPORTED_DATA, reason)
            raise WebSocketDisconnect(WebSocketClose.UNSUPPORTED_DATA, reason) from None

    async def send_text(self, text: str) -> None:
        await self._send_message({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._send_message({"type": "websocket.send", "bytes": data})

    async def send_json(self, value: Any, *, binary: bool = False) -> None:
        """Encode ``value`` (dicts, lists, Structs, dataclasses...) as JSON and send it."""
        payload = msgspec.json.encode(value)
        if binary:
            await self.send_bytes(payload)
        else:
            await self.send_text(payload.decode("utf-8"))

    async def _send_message(self, message: Message) -> None:
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError("Call accept() before sending on a WebSocket (or it is already closed).")
        try:
            await self._send(message)
        except OSError:  # ASGI servers raise an OSError once the client has gone
            self.client_state = self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006, "the client has gone") from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before accept, this rejects the handshake: the server answers 403)."""
        if self.application_state is WebSocketState.DISCONNECTED:
            return
        self.application_state = WebSocketState.DISCONNECTED
        # A close frame carries at most 123 bytes of reason; cut on a character boundary.
        short = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
        with contextlib.suppress(OSError):  # the client has already gone: there is no one to tell
            await self._send({"type": "websocket.close", "code": int(code), "reason": short})

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self, type: Any = Any) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json(type)
        except WebSocketDisconnect:
            return

"""Server-sent events: a long-lived ``text/event-stream`` response the browser reads with ``EventSource``.

The wire format (the HTML standard, "Server-sent events")::

    : a comment, ignored by the browser
    event: price
    id: 42
    retry: 5000
    data: {"symbol":"PLT","price":12.5}

Each event ends with a blank line. Data that is not a ``str`` is encoded as JSON; text holding
line breaks is sent as several ``data:`` lines, which the browser joins back with ``\\n``.
An event name or id holding CR or LF is refused with ``ValueError``: it would let whoever
controls the value start a new field or a whole forged event.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

import anyio
import anyio.to_thread
import msgspec

from plait._types import Message, Receive, Scope, Send
from plait.responses.base import Response
from plait.responses.streaming import close_quietly, log_disconnect, send_until_disconnect

__all__ = ["EventSourceResponse", "ServerSentEvent"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELDS = frozenset({"data", "event", "id", "retry", "comment"})
_PING = b": ping\n\n"
_DONE = object()


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event of an event stream.

    >>> ServerSentEvent({"n": 1}, event="tick", id="7").encode()
    b'event: tick\\nid: 7\\ndata: {"n":1}\\n\\n'
    >>> ServerSentEvent("two\\nlines").encode()
    b'data: two\\ndata: lines\\n\\n'
    """

    data: Any = None
    _: KW_ONLY
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def __post_init__(self) -> None:
        for name in ("event", "id"):
            value = getattr(self, name)
            if value is not None and ("\r" in value or "\n" in value):
                raise ValueError(
                    f"ServerSentEvent {name}={value!r} contains a line break, which would start a new "
                    "field or event on the wire; remove the CR/LF characters (put text in data instead)."
                )
        if self.id is not None and "\x00" in self.id:
            raise ValueError("ServerSentEvent id contains a NUL character, which browsers ignore; remove it.")
        if self.retry is not None and (isinstance(self.retry, bool) or self.retry < 0):
            raise ValueError(f"ServerSentEvent retry must be a whole number of milliseconds >= 0, not {self.retry!r}.")
        if self.data is None and self.event is None and self.id is None and self.retry is None and self.comment is None:
            raise ValueError("A ServerSentEvent needs data, a comment, an event name, an id or a retry.")

    def encode(self) -> bytes:
        """The event as UTF-8 text on the wire, blank line included."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            text = self.data if isinstance(self.data, str) else msgspec.json.encode(self.data).decode()
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
        lines.append("\n")
        return "\n".join(lines).encode()


EventLike = ServerSentEvent | Mapping[str, Any] | str
EventSource = AsyncIterable[EventLike] | Iterable[EventLike]


def to_event(item: object) -> ServerSentEvent:
    """Turn what an event source yielded into an event.

    A ``str`` is the data; a mapping holds the fields (``{"data": ..., "event": ...}``).

    >>> to_event({"event": "tick", "data": [1, 2]}).encode()
    b'event: tick\\ndata: [1,2]\\n\\n'
    """
    if isinstance(item, ServerSentEvent):
        return item
    if isinstance(item, str):
        return ServerSentEvent(item)
    if isinstance(item, Mapping):
        unknown = set(item) - _FIELDS
        if unknown:
            raise TypeError(
                f"An event given as a dict may only hold the keys {sorted(_FIELDS)}, not {sorted(unknown)}; "
                'to send the dict itself as JSON, yield {"data": your_dict} or ServerSentEvent(your_dict).'
            )
        return ServerSentEvent(**item)
    raise TypeError(
        f"An event source must yield ServerSentEvent, dict or str values, not {type(item).__name__}; "
        "yield ServerSentEvent(value) to send the value as JSON data."
    )


class _KeepAlive:
    """Sends a comment line whenever the stream has been quiet for ``interval`` seconds.

    Events and pings share ``send`` through a lock, so a ping never lands inside an event.
    """

    def __init__(self, send: Send, interval: float) -> None:
        self._send = send
        self.interval = interval
        self._lock = anyio.Lock()
        self._last = anyio.current_time()
        self._scope = anyio.CancelScope()
        self.error: Exception | None = None

    async def send(self, message: Message) -> None:
        async with self._lock:
            await self._send(message)
            self._last = anyio.current_time()

    async def run(self, events: anyio.CancelScope) -> None:
        """Ping until stopped; if a ping cannot be sent, keep the error and cancel ``events``."""
        with self._scope:
            try:
                while True:
                    await anyio.sleep(self._last + self.interval - anyio.current_time())
                    if anyio.current_time() - self._last >= self.interval:
                        await self.send({"type": "http.response.body", "body": _PING, "more_body": True})
            except Exception as exc:
                # Most often the client has gone and the send failed: stop the events too.
                self.error = exc
                events.cancel()

    def stop(self) -> None:
        self._scope.cancel()


class EventSourceResponse(Response):
    """A stream of server-sent events from a sync or async iterable.

    The iterable yields :class:`ServerSentEvent` values, dicts of their fields, or plain strings
    (the data). While it is idle, a ``: ping`` comment goes out every ``ping_interval`` seconds
    (``None`` turns pings off), which keeps proxies from closing a quiet connection. When the
    client disconnects, the iterable is closed, so its ``finally`` blocks run. A sync iterable is
    advanced in a worker thread. ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no`` (which
    stops nginx buffering the stream) are sent unless ``headers`` says otherwise.

    >>> async def ticks():
    ...     for n in range(3):
    ...         yield ServerSentEvent(n, event="tick")
    >>> EventSourceResponse(ticks()).headers["content-type"]
    'text/event-stream; charset=utf-8'
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: EventSource,
        *,
        ping_interval: float | None = 15.0,
        headers: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> None:
        if isinstance(content, bytes | str | Mapping | ServerSentEvent):
            raise TypeError(
                "EventSourceResponse needs an iterable (usually a generator) of events, not a single "
                "value; wrap a single event in a list."
            )
        if ping_interval is not None and not ping_interval > 0:
            raise ValueError(f"ping_interval must be a positive number of seconds or None, not {ping_interval!r}.")
        super().__init__(None, status_code=status_code, headers=headers)
        del self.headers["content-length"]
        self.headers.setdefault("cache-control", "no-cache")
        self.headers.setdefault("x-accel-buffering", "no")
        self.content = content
        self.ping_interval = ping_interval

    async def _send_events(self, iterator: AsyncIterator[object] | Iterator[object], send: Send) -> None:
        if isinstance(iterator, AsyncIterator):
            async for item in iterator:
                await send({"type": "http.response.body", "body": to_event(item).encode(), "more_body": True})
        else:
            # A sync iterator may block between events (a queue, a database poll), so each step
            # runs in a worker thread; the thread always finishes before the iterator is closed.
            while (item := await anyio.to_thread.run_sync(next, iterator, _DONE)) is not _DONE:
                await send({"type": "http.response.body", "body": to_event(item).encode(), "more_body": True})

    async def _stream(self, iterator: AsyncIterator[object] | Iterator[object], send: Send) -> None:
        if self.ping_interval is None:
            await self._send_events(iterator, send)
        else:
            keep_alive = _KeepAlive(send, self.ping_interval)
            error: Exception | None = None
            async with anyio.create_task_group() as group:
                with anyio.CancelScope() as events:
                    group.start_soon(keep_alive.run, events)
                    try:
                        await self._send_events(iterator, keep_alive.send)
                    except Exception as exc:
                        # Raised below, outside the task group, as itself rather than in a group.
                        error = exc
                keep_alive.stop()
            error = error or keep_alive.error
            if error is not None:
                raise error
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.headers.raw})
        content = self.content
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await close_quietly(content)
            return
        iterator = aiter(content) if isinstance(content, AsyncIterable) else iter(content)
        try:
            if not await send_until_disconnect(receive, send, functools.partial(self._stream, iterator)):
                log_disconnect(scope, "while the events streamed")
        finally:
            # However the stream ended, close the iterator now so the user's cleanup runs.
            await close_quietly(iterator)

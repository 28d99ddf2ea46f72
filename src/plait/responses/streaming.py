"""Responses whose body is produced piece by piece while it is sent."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any

import anyio
import anyio.to_thread

from plait._types import Message, Receive, Scope, Send
from plait.responses.base import Response

Chunk = bytes | str
Content = AsyncIterable[Chunk] | Iterable[Chunk]

_DONE = object()
_logger = logging.getLogger("plait.error")


def log_disconnect(scope: Scope, when: str) -> None:
    """The one line (at debug level, on the ``plait.error`` logger) for a client that went away.

    A vanished client is not an error: browsers close tabs and cancel uploads all the time.
    """
    _logger.debug("The client disconnected %s: %s %s", when, scope.get("method"), scope.get("path"))


class _ClientDisconnected(Exception):
    """Raised inside the sending loop when the server reports the connection closed."""


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


async def send_until_disconnect(receive: Receive, send: Send, produce: Callable[[Send], Awaitable[None]]) -> bool:
    """Run ``produce(send)`` while listening for the client going away.

    When ``receive`` reports ``http.disconnect``, ``produce`` is cancelled. An ``OSError`` from
    ``send`` (how ASGI servers report a closed connection) counts as a disconnect too. Any other
    error from ``produce`` propagates unchanged. Returns True when ``produce`` ran to the end.

    >>> async def receive(): return {"type": "http.disconnect"}
    >>> async def send(message): pass
    >>> async def produce(send): await anyio.sleep(10)
    >>> anyio.run(send_until_disconnect, receive, send, produce)
    False
    """

    async def guarded_send(message: Message) -> None:
        try:
            await send(message)
        except OSError as exc:
            raise _ClientDisconnected from exc

    finished = False
    error: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
        try:
            await produce(guarded_send)
            finished = True
        except _ClientDisconnected:
            pass
        except Exception as exc:
            # Re-raised below, outside the task group, so callers see the error itself
            # rather than an exception group around it.
            error = exc
        group.cancel_scope.cancel()
    if error is not None:
        raise error
    return finished


async def close_quietly(resource: object) -> None:
    """Close a generator or iterator if it can be closed, shielded from cancellation.

    Async ``aclose()`` is awaited; sync ``close()`` runs in a worker thread. Either way the
    generator's ``finally`` blocks run even when the request itself is being cancelled.
    """
    with anyio.CancelScope(shield=True):
        aclose: Any = getattr(resource, "aclose", None)
        if callable(aclose):
            await aclose()
            return
        close: Any = getattr(resource, "close", None)
        if callable(close):
            await anyio.to_thread.run_sync(close)


class StreamingResponse(Response):
    """A response sent chunk by chunk from a sync or async iterable of ``bytes`` or ``str``.

    No ``Content-Length`` is sent, so the server uses chunked encoding (HTTP/1.1) or simply
    streams frames (HTTP/2). A sync iterable is advanced in a worker thread, so a blocking
    generator never stalls the event loop. If the client disconnects, streaming stops and the
    generator is closed, so its ``finally`` block runs. A ``HEAD`` request gets the headers only
    and the iterable is never advanced.

    >>> async def numbers():
    ...     for n in range(3):
    ...         yield f"{n}\\n"
    >>> response = StreamingResponse(numbers(), media_type="text/plain")
    >>> response.headers["content-type"], "content-length" in response.headers
    ('text/plain; charset=utf-8', False)
    """

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        if isinstance(content, bytes | str):
            raise TypeError(
                "StreamingResponse needs an iterable of chunks, not a single bytes or str value; "
                "use Response for a body held in memory, or wrap the value in a list."
            )
        given_length = headers is not None and any(k.lower() == "content-length" for k in headers)
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
        if not given_length:
            # Response adds "content-length: 0" for its empty in-memory body; a stream has no
            # length known up front unless the caller supplied one.
            del self.headers["content-length"]
        self.content = content

    def _encode(self, chunk: object) -> bytes:
        if isinstance(chunk, bytes):
            return chunk
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        if isinstance(chunk, bytearray | memoryview):
            return bytes(chunk)
        raise TypeError(
            f"StreamingResponse chunks must be bytes or str, got {type(chunk).__name__}; "
            "convert each value (for example with str() or json encoding) before yielding it."
        )

    async def _send_chunk(self, send: Send, chunk: object) -> None:
        body = self._encode(chunk)
        if body:
            await send({"type": "http.response.body", "body": body, "more_body": True})

    async def _stream(self, iterator: AsyncIterator[Chunk] | Iterator[Chunk], send: Send) -> None:
        if isinstance(iterator, AsyncIterator):
            async for chunk in iterator:
                await self._send_chunk(send, chunk)
        else:
            # Each step of a sync iterator may block (file reads, database cursors), so it runs
            # in a worker thread. The thread is never abandoned on cancellation, so the iterator
            # is idle by the time it is closed.
            while (item := await anyio.to_thread.run_sync(next, iterator, _DONE)) is not _DONE:
                await self._send_chunk(send, item)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.headers.raw})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await close_quietly(self.content)
            return
        content = self.content
        iterator = aiter(content) if isinstance(content, AsyncIterable) else iter(content)
        try:
            if not await send_until_disconnect(receive, send, functools.partial(self._stream, iterator)):
                log_disconnect(scope, "while the response streamed")
        finally:
            # Whether the stream finished, failed or the client left, close the iterator so the
            # user's ``finally`` blocks run now rather than whenever it is garbage collected.
            await close_quietly(iterator)

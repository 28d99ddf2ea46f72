"""Tests for ``StreamingResponse``: chunking, threads, HEAD, disconnects and cleanup."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

from plait._types import ASGIApp, Message
from plait.responses import StreamingResponse
from plait.responses.streaming import close_quietly, send_until_disconnect


def fetch(app: ASGIApp, method: str = "GET") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, "/")

    return anyio.run(go)


def scope_for(method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


async def never_disconnect() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


class Recorder:
    """An ASGI ``send`` that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]

    @property
    def finished(self) -> bool:
        return any(m["type"] == "http.response.body" and not m.get("more_body") for m in self.messages)


def test_async_generator_chunks_are_sent_in_order() -> None:
    async def parts() -> AsyncIterator[bytes | str]:
        yield b"one,"
        yield "twö,"
        yield b"three"

    response = fetch(StreamingResponse(parts(), media_type="text/csv"))
    assert response.status_code == 200
    assert response.content == "one,twö,three".encode()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in response.headers


def test_each_chunk_is_its_own_message() -> None:
    send = Recorder()
    anyio.run(StreamingResponse([b"a", "", b"b"]), scope_for(), never_disconnect, send)
    assert send.messages[0] == {"type": "http.response.start", "status": 200, "headers": []}
    # The empty chunk is skipped; the stream ends with an empty closing message.
    assert send.messages[1:] == [
        {"type": "http.response.body", "body": b"a", "more_body": True},
        {"type": "http.response.body", "body": b"b", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


def test_sync_iterator_runs_in_worker_thread() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def parts() -> Iterator[str]:
        for word in ("a", "b", "c"):
            seen.append(threading.get_ident())
            yield word

    assert fetch(StreamingResponse(parts())).content == b"abc"
    assert len(seen) == 3
    assert loop_thread not in seen


def test_plain_list_content() -> None:
    assert fetch(StreamingResponse(["x", b"y"])).content == b"xy"


def test_status_headers_and_cookies() -> None:
    response = StreamingResponse(iter([b"{}"]), status_code=201, headers={"X-Id": "7"}, media_type="application/json")
    response.set_cookie("seen", "1")
    result = fetch(response)
    assert result.status_code == 201
    assert result.headers["x-id"] == "7"
    assert result.headers["content-type"] == "application/json"
    assert result.headers["set-cookie"].startswith("seen=1;")
    assert "content-length" not in result.headers


def test_caller_supplied_content_length_is_kept() -> None:
    response = StreamingResponse([b"abc"], headers={"Content-Length": "3"})
    assert response.headers.getlist("content-length") == ["3"]
    assert fetch(response).content == b"abc"


def test_head_does_not_iterate() -> None:
    started = False

    async def parts() -> AsyncIterator[bytes]:
        nonlocal started
        started = True
        yield b"never"

    send = Recorder()
    anyio.run(StreamingResponse(parts(), media_type="text/plain"), scope_for("HEAD"), never_disconnect, send)
    assert not started
    assert send.messages[0]["status"] == 200
    assert send.bodies == [b""]
    assert send.finished


def test_head_closes_a_sync_generator_without_running_it() -> None:
    def parts() -> Iterator[bytes]:
        yield b"never"

    generator = parts()
    anyio.run(StreamingResponse(generator), scope_for("HEAD"), never_disconnect, Recorder())
    assert list(generator) == []  # closed, so it yields nothing


def test_disconnect_stops_async_generator_and_runs_finally() -> None:
    cleaned = False
    first_sent = anyio.Event()

    async def endless() -> AsyncIterator[bytes]:
        nonlocal cleaned
        try:
            while True:
                yield b"tick"
                await anyio.sleep(0)
        finally:
            cleaned = True

    async def receive() -> Message:
        await first_sent.wait()
        return {"type": "http.disconnect"}

    send = Recorder()

    async def recording_send(message: Message) -> None:
        await send(message)
        if message.get("body"):
            first_sent.set()

    async def main() -> None:
        with anyio.fail_after(5):
            await StreamingResponse(endless())(scope_for(), receive, recording_send)

    anyio.run(main)
    assert cleaned
    assert b"tick" in send.bodies
    assert not send.finished


def test_disconnect_closes_sync_generator() -> None:
    cleaned = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
        finally:
            cleaned.set()

    async def receive() -> Message:
        await anyio.sleep(0.05)
        return {"type": "http.disconnect"}

    send = Recorder()

    async def main() -> None:
        with anyio.fail_after(5):
            await StreamingResponse(endless())(scope_for(), receive, send)

    anyio.run(main)
    assert cleaned.is_set()
    assert not send.finished


def test_request_body_messages_are_not_mistaken_for_disconnect() -> None:
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> Message:
        for message in messages:
            return message
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    send = Recorder()
    anyio.run(StreamingResponse([b"a", b"b"]), scope_for(), receive, send)
    assert send.bodies == [b"a", b"b", b""]
    assert send.finished


def test_send_raising_oserror_counts_as_disconnect() -> None:
    cleaned = False

    async def endless() -> AsyncIterator[bytes]:
        nonlocal cleaned
        try:
            while True:
                yield b"tick"
        finally:
            cleaned = True

    async def broken_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise ConnectionResetError("client went away")

    anyio.run(StreamingResponse(endless()), scope_for(), never_disconnect, broken_send)
    assert cleaned


def test_generator_error_propagates_unwrapped_and_finally_runs() -> None:
    cleaned = False

    async def failing() -> AsyncIterator[bytes]:
        nonlocal cleaned
        try:
            yield b"partial"
            raise KeyError("boom")
        finally:
            cleaned = True

    with pytest.raises(KeyError, match="boom"):
        anyio.run(StreamingResponse(failing()), scope_for(), never_disconnect, Recorder())
    assert cleaned


def test_outside_cancellation_closes_generator_with_shielded_cleanup() -> None:
    cleaned = False

    async def endless() -> AsyncIterator[bytes]:
        nonlocal cleaned
        try:
            while True:
                yield b"tick"
        finally:
            await anyio.sleep(0)  # cleanup may await: the close is shielded from the cancellation
            cleaned = True

    async def slow_send(message: Message) -> None:
        if message.get("body"):
            await anyio.sleep_forever()  # a client that stopped reading

    async def main() -> None:
        with anyio.move_on_after(0.05):
            await StreamingResponse(endless())(scope_for(), never_disconnect, slow_send)

    anyio.run(main)
    assert cleaned


def test_wrong_chunk_type_is_explained() -> None:
    with pytest.raises(TypeError, match="chunks must be bytes or str, got int"):
        anyio.run(StreamingResponse([1]), scope_for(), never_disconnect, Recorder())  # type: ignore[list-item]


def test_bytearray_and_memoryview_chunks_are_accepted() -> None:
    content: list[Any] = [bytearray(b"ab"), memoryview(b"cd")]
    assert fetch(StreamingResponse(content)).content == b"abcd"


@pytest.mark.parametrize("content", [b"whole", "whole"])
def test_single_value_is_refused(content: bytes | str) -> None:
    with pytest.raises(TypeError, match="use Response"):
        StreamingResponse(content)  # type: ignore[arg-type]


def test_send_until_disconnect_reports_completion() -> None:
    async def produce(send: Any) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    send = Recorder()
    assert anyio.run(send_until_disconnect, never_disconnect, send, produce) is True
    assert send.bodies == [b"x"]


def test_close_quietly_ignores_objects_without_close() -> None:
    anyio.run(close_quietly, [1, 2])

    class Closable:
        closed = False

        def close(self) -> None:
            self.closed = True

    thing = Closable()
    anyio.run(close_quietly, thing)
    assert thing.closed


def test_a_disconnect_while_streaming_is_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"tick"
            await anyio.sleep(0.01)

    async def receive() -> Message:
        await anyio.sleep(0.05)
        return {"type": "http.disconnect"}

    caplog.set_level(logging.DEBUG, logger="plait")
    anyio.run(StreamingResponse(endless()), scope_for(), receive, Recorder())
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "The client disconnected while the response streamed: GET /")
    ]


def test_a_stream_that_finishes_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="plait")
    anyio.run(StreamingResponse([b"a"]), scope_for(), never_disconnect, Recorder())
    assert caplog.records == []

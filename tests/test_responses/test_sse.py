"""Server-sent events: the wire format, keep-alive pings, disconnects and cleanup, in a Plait app."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from plait import Plait, Settings
from plait._types import Message
from plait.responses.sse import EventSourceResponse, ServerSentEvent, to_event
from plait.testing import TestClient

PING = b": ping\n\n"


def parse_events(raw: bytes) -> list[dict[str, str]]:
    """Read an event stream the way a browser's EventSource does (comments skipped, data joined)."""
    events: list[dict[str, str]] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", raw.decode()):
        if line == "":
            if data:
                events.append({**fields, "data": "\n".join(data)})
            data, fields = [], {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
    return events


class Recorder:
    """An ASGI ``send`` that keeps every message with the time it arrived."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.times: list[float] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)
        self.times.append(time.monotonic())

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body" and m["body"]]

    @property
    def finished(self) -> bool:
        return any(m["type"] == "http.response.body" and not m.get("more_body") for m in self.messages)


class Client:
    """An ASGI ``receive`` that sends an empty request, then reports a disconnect when told to."""

    def __init__(self) -> None:
        self.gone = anyio.Event()
        self._calls = 0

    async def __call__(self) -> Message:
        self._calls += 1
        if self._calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}


def drive(
    response: EventSourceResponse, method: str = "GET", send: Recorder | None = None, limit: float = 5.0
) -> Recorder:
    """Run the response to the end with a client that never leaves; bounded in time."""
    send = send or Recorder()
    scope = {"type": "http", "method": method, "path": "/", "headers": []}

    async def go() -> None:
        with anyio.fail_after(limit):
            await response(scope, Client(), send)

    anyio.run(go)
    return send


def quiet_before_each_ping(send: Recorder, interval: float) -> bool:
    """Whether every ping followed at least ``interval`` seconds without anything sent.

    Sleeping never ends early, so this holds however loaded the machine is.
    """
    sent = [(m["body"], t) for m, t in zip(send.messages, send.times, strict=True) if m.get("body")]
    return all(
        later - earlier >= interval - 0.001 for (_, earlier), (body, later) in itertools.pairwise(sent) if body == PING
    )


# --- the wire format -----------------------------------------------------------------------------


def test_text_data() -> None:
    assert ServerSentEvent("hello").encode() == b"data: hello\n\n"
    assert ServerSentEvent("").encode() == b"data: \n\n"
    assert ServerSentEvent(" lead").encode() == b"data:  lead\n\n"
    assert ServerSentEvent("naïve ✓").encode() == "data: naïve ✓\n\n".encode()


def test_line_breaks_become_several_data_lines() -> None:
    encoded = ServerSentEvent("a\nb\r\nc\rd").encode()
    assert encoded == b"data: a\ndata: b\ndata: c\ndata: d\n\n"
    assert parse_events(encoded) == [{"data": "a\nb\nc\nd"}]
    trailing = ServerSentEvent("end\n").encode()
    assert trailing == b"data: end\ndata: \n\n"
    assert parse_events(trailing) == [{"data": "end\n"}]


def test_unicode_line_separators_are_not_split() -> None:
    # Only CR and LF end a line on the wire; str.splitlines() would also split these.
    assert ServerSentEvent("a\u2028b\x0bc").encode() == "data: a\u2028b\x0bc\n\n".encode()


def test_other_data_is_json() -> None:
    assert ServerSentEvent({"n": 1, "tags": ["a"]}).encode() == b'data: {"n":1,"tags":["a"]}\n\n'
    assert ServerSentEvent([1, 2]).encode() == b"data: [1,2]\n\n"
    assert ServerSentEvent(0).encode() == b"data: 0\n\n"
    assert ServerSentEvent(False).encode() == b"data: false\n\n"
    # JSON escapes line breaks, so the event stays on one data line.
    assert ServerSentEvent({"text": "two\nlines"}).encode() == b'data: {"text":"two\\nlines"}\n\n'


def test_every_field_in_order() -> None:
    event = ServerSentEvent("payload", event="update", id="42", retry=5000, comment="first\nsecond")
    assert event.encode() == (b": first\n: second\nevent: update\nid: 42\nretry: 5000\ndata: payload\n\n")
    assert parse_events(event.encode()) == [{"event": "update", "id": "42", "retry": "5000", "data": "payload"}]


def test_events_without_data() -> None:
    assert ServerSentEvent(comment="just saying").encode() == b": just saying\n\n"
    assert ServerSentEvent(id="").encode() == b"id: \n\n"
    assert ServerSentEvent(retry=0).encode() == b"retry: 0\n\n"
    with pytest.raises(ValueError, match="needs data"):
        ServerSentEvent()


@pytest.mark.parametrize(
    "fields",
    [
        {"event": "a\nb"},
        {"event": "a\rb"},
        {"event": "tick\n\ndata: forged"},
        {"id": "1\ndata: forged"},
        {"id": "1\r"},
        {"id": "1\x002"},
    ],
)
def test_line_breaks_in_event_or_id_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"line break|NUL"):
        ServerSentEvent("x", **fields)


@pytest.mark.parametrize("retry", [-1, True])
def test_retry_must_be_a_non_negative_int(retry: int) -> None:
    with pytest.raises(ValueError, match="retry"):
        ServerSentEvent("x", retry=retry)


def test_what_a_source_may_yield() -> None:
    event = ServerSentEvent("x", id="1")
    assert to_event(event) is event
    assert to_event("text") == ServerSentEvent("text")
    assert to_event({"data": {"a": 1}, "event": "e"}) == ServerSentEvent({"a": 1}, event="e")
    with pytest.raises(TypeError, match=r"\['count'\]"):
        to_event({"count": 1})
    with pytest.raises(TypeError, match="not int"):
        to_event(3)
    with pytest.raises(ValueError, match="line break"):
        to_event({"data": "x", "event": "a\nb"})


# --- the response --------------------------------------------------------------------------------


def test_headers() -> None:
    response = EventSourceResponse([])
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-length" not in response.headers
    custom = EventSourceResponse([], headers={"Cache-Control": "no-store", "X-Stream": "1"}, status_code=201)
    assert custom.headers["cache-control"] == "no-store"
    assert custom.headers.getlist("cache-control") == ["no-store"]
    assert custom.headers["x-stream"] == "1"
    assert custom.status_code == 201


@pytest.mark.parametrize("content", ["data", b"data", {"data": "x"}, ServerSentEvent("x")])
def test_a_single_value_is_refused(content: Any) -> None:
    with pytest.raises(TypeError, match="iterable"):
        EventSourceResponse(content)


@pytest.mark.parametrize("interval", [0, -1.0, float("nan")])
def test_ping_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ValueError, match="ping_interval"):
        EventSourceResponse([], ping_interval=interval)


def test_sync_list_is_sent_in_order() -> None:
    send = drive(EventSourceResponse(["one", {"data": 2, "event": "n"}, ServerSentEvent([3], id="c")]))
    assert send.messages[0]["type"] == "http.response.start"
    assert send.messages[0]["status"] == 200
    assert send.finished
    assert parse_events(b"".join(send.bodies)) == [
        {"data": "one"},
        {"event": "n", "data": "2"},
        {"id": "c", "data": "[3]"},
    ]
    # One message per event, so each reaches the browser as soon as it is produced.
    assert len(send.bodies) == 3


def test_sync_generator_runs_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def events() -> Iterator[str]:
        threads.append(threading.get_ident())
        yield "a"

    send = drive(EventSourceResponse(events(), ping_interval=None))
    assert parse_events(b"".join(send.bodies)) == [{"data": "a"}]
    assert threads
    assert loop_thread not in threads


def test_a_bad_item_raises_and_closes_the_source() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[Any]:
        try:
            yield "fine"
            yield 42
        finally:
            closed.append(True)

    with pytest.raises(TypeError, match="not int"):
        drive(EventSourceResponse(events()))
    assert closed == [True]


@pytest.mark.parametrize("ping_interval", [None, 10.0])
def test_an_error_in_the_source_propagates_as_itself(ping_interval: float | None) -> None:
    async def events() -> AsyncIterator[str]:
        yield "one"
        raise LookupError("gone wrong")

    with pytest.raises(LookupError, match="gone wrong"):
        drive(EventSourceResponse(events(), ping_interval=ping_interval))


def test_head_sends_headers_and_never_starts_the_source() -> None:
    started: list[bool] = []

    async def events() -> AsyncIterator[str]:
        started.append(True)
        yield "x"

    send = drive(EventSourceResponse(events()), method="HEAD")
    assert send.messages[0]["status"] == 200
    assert send.bodies == []
    assert send.finished
    assert started == []


# --- keep-alive pings ----------------------------------------------------------------------------


def test_pings_while_the_source_is_idle() -> None:
    send = Recorder()

    async def events() -> AsyncIterator[str]:
        yield "first"
        while send.bodies.count(PING) < 3:
            await anyio.sleep(0.01)
        yield "second"

    drive(EventSourceResponse(events(), ping_interval=0.05), send=send)
    bodies = send.bodies
    assert [body for body in bodies if body != PING] == [b"data: first\n\n", b"data: second\n\n"]
    assert bodies.index(b"data: second\n\n") - bodies.index(b"data: first\n\n") >= 4
    assert parse_events(b"".join(bodies)) == [{"data": "first"}, {"data": "second"}]
    assert quiet_before_each_ping(send, 0.05)
    assert send.finished


def test_no_pings_while_events_flow() -> None:
    # The events span two ping intervals, but none is ever more than a tenth of one apart.
    async def events() -> AsyncIterator[str]:
        for n in range(20):
            await anyio.sleep(0.01)
            yield str(n)

    send = drive(EventSourceResponse(events(), ping_interval=0.1))
    assert [body for body in send.bodies if body != PING] == [f"data: {n}\n\n".encode() for n in range(20)]
    # On a machine too loaded to keep up, a ping may slip in, but only after a quiet interval.
    assert quiet_before_each_ping(send, 0.1)


def test_no_pings_when_turned_off() -> None:
    async def events() -> AsyncIterator[str]:
        await anyio.sleep(0.15)
        yield "x"

    send = drive(EventSourceResponse(events(), ping_interval=None))
    assert send.bodies == [b"data: x\n\n"]


def test_a_blocking_sync_source_does_not_stop_pings() -> None:
    send = Recorder()

    def events() -> Iterator[str]:
        # Blocks its worker thread until the event loop, still free, has sent two pings.
        deadline = time.monotonic() + 5
        while send.bodies.count(PING) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield "done"

    drive(EventSourceResponse(events(), ping_interval=0.05), send=send)
    assert send.bodies[-1] == b"data: done\n\n"
    assert set(send.bodies[:-1]) == {PING}
    assert len(send.bodies) >= 3
    assert quiet_before_each_ping(send, 0.05)


# --- disconnects ---------------------------------------------------------------------------------


def run_until_gone(response: EventSourceResponse, leave_after: int, send_error: bool = False) -> Recorder:
    """Run the response; the client leaves once ``leave_after`` bodies have been sent.

    It leaves by reporting ``http.disconnect``, or with ``send_error`` (never reporting it) by
    making the next ``send`` fail the way servers do when the socket is closed.
    """
    send = Recorder()
    client = Client()

    async def watching_send(message: Message) -> None:
        if send_error and len(send.bodies) >= leave_after:
            raise OSError("connection reset")
        await send(message)
        if not send_error and len(send.bodies) >= leave_after:
            client.gone.set()

    async def go() -> None:
        with anyio.fail_after(5):
            await response({"type": "http", "method": "GET", "path": "/", "headers": []}, client, watching_send)

    anyio.run(go)
    return send


def endless(closed: list[str]) -> AsyncIterator[str]:
    async def events() -> AsyncIterator[str]:
        n = 0
        try:
            while True:
                yield str(n)
                n += 1
                await anyio.sleep(0.01)
        finally:
            closed.append("closed")

    return events()


@pytest.mark.parametrize("ping_interval", [None, 0.05])
def test_disconnect_closes_an_async_source(ping_interval: float | None) -> None:
    closed: list[str] = []
    send = run_until_gone(EventSourceResponse(endless(closed), ping_interval=ping_interval), leave_after=3)
    assert closed == ["closed"]
    assert 3 <= len(send.bodies) <= 5
    assert not send.finished


def test_disconnect_while_idle_closes_the_source() -> None:
    closed: list[str] = []

    async def events() -> AsyncIterator[str]:
        try:
            yield "hello"
            await anyio.sleep_forever()
            yield "never"  # pragma: no cover
        finally:
            closed.append("closed")

    send = run_until_gone(EventSourceResponse(events(), ping_interval=0.05), leave_after=3)
    assert closed == ["closed"]
    assert send.bodies[0] == b"data: hello\n\n"
    assert send.bodies[1:] == [PING, PING]


def test_disconnect_closes_a_sync_source() -> None:
    closed: list[str] = []

    def events() -> Iterator[str]:
        try:
            n = 0
            while True:
                time.sleep(0.01)
                yield str(n)
                n += 1
        finally:
            closed.append("closed")

    run_until_gone(EventSourceResponse(events(), ping_interval=0.05), leave_after=2)
    assert closed == ["closed"]


@pytest.mark.parametrize("ping_interval", [None, 0.05])
def test_a_failing_send_counts_as_a_disconnect(ping_interval: float | None) -> None:
    closed: list[str] = []
    response = EventSourceResponse(endless(closed), ping_interval=ping_interval)
    send = run_until_gone(response, leave_after=2, send_error=True)
    assert closed == ["closed"]
    assert len(send.bodies) == 2


def test_a_failing_ping_counts_as_a_disconnect() -> None:
    closed: list[str] = []

    async def events() -> AsyncIterator[str]:
        try:
            yield "hello"
            await anyio.sleep_forever()
            yield "never"  # pragma: no cover
        finally:
            closed.append("closed")

    send = run_until_gone(EventSourceResponse(events(), ping_interval=0.05), leave_after=1, send_error=True)
    assert closed == ["closed"]
    assert send.bodies == [b"data: hello\n\n"]


# --- in a Plait app ------------------------------------------------------------------------------


def make_app(closed: list[str]) -> Plait:
    app = Plait(settings=Settings())

    @app.get("/countdown")
    async def countdown() -> EventSourceResponse:
        async def events() -> AsyncIterator[ServerSentEvent]:
            for n in (3, 2, 1):
                yield ServerSentEvent({"n": n}, event="tick", id=str(n))
            yield ServerSentEvent("liftoff", event="done")

        return EventSourceResponse(events())

    @app.get("/forever")
    def forever() -> EventSourceResponse:
        return EventSourceResponse(endless(closed), ping_interval=0.05)

    return app


def test_through_the_test_client_line_by_line() -> None:
    with TestClient(make_app([])) as client, client.stream("GET", "/countdown") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        lines = list(response.iter_lines())
    assert lines[:4] == ["event: tick", "id: 3", 'data: {"n":3}', ""]
    assert lines[-3:] == ["event: done", "data: liftoff", ""]
    raw = "\n".join(lines).encode()
    assert [event["data"] for event in parse_events(raw)] == ['{"n":3}', '{"n":2}', '{"n":1}', "liftoff"]


def test_leaving_an_endless_stream_closes_the_generator() -> None:
    closed: list[str] = []
    with TestClient(make_app(closed)) as client:
        with client.stream("GET", "/forever") as response:
            lines = response.iter_lines()
            assert next(lines) == "data: 0"
            assert next(lines) == ""
            assert next(lines) == "data: 1"
        assert closed == ["closed"]
        # The app is still healthy for the next request.
        assert client.get("/countdown").status_code == 200

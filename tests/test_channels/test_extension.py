"""The Channels extension in one process: injection into WebSocket and SSE handlers, settings, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec
import pytest

from plait import Plait, WebSocket
from plait.channels import Channels, ChannelsSettings, MemoryBroker, RedisBroker, SlowSubscriber
from plait.exceptions import ConfigurationError
from plait.responses.sse import EventSourceResponse
from plait.testing import AsyncTestClient, TestClient

pytestmark = pytest.mark.anyio


class Chat(msgspec.Struct):
    text: str


def chat_app() -> Plait:
    app = Plait()
    app.install(Channels())

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket, room: str, channels: Channels) -> None:
        await ws.accept()
        async with channels.subscribe(f"room:{room}", type=Chat) as messages:
            await ws.send_json({"ready": True})  # the client publishes only once this process listens
            async for message in messages:
                await ws.send_json({"text": message.text})
                if message.text == "bye":
                    return

    @app.post("/rooms/{room}", status_code=204)
    async def say(room: str, text: str, channels: Channels) -> None:
        await channels.publish(f"room:{room}", Chat(text))

    @app.get("/events/{room}")
    async def events(room: str, channels: Channels) -> EventSourceResponse:
        async def stream() -> AsyncIterator[dict[str, str]]:
            async with channels.subscribe(f"room:{room}", type=Chat) as messages:
                async for message in messages:
                    yield {"data": message.text}
                    if message.text == "bye":
                        return

        return EventSourceResponse(stream(), ping_interval=None)

    return app


def test_a_websocket_receives_what_a_request_publishes() -> None:
    with TestClient(chat_app()) as client, client.websocket_connect("/rooms/1") as ws:
        assert ws.receive_json() == {"ready": True}
        assert client.post("/rooms/2", params={"text": "elsewhere"}).status_code == 204
        assert client.post("/rooms/1", params={"text": "hello"}).status_code == 204
        assert client.post("/rooms/1", params={"text": "bye"}).status_code == 204
        assert ws.receive_json() == {"text": "hello"}
        assert ws.receive_json() == {"text": "bye"}


async def test_an_sse_stream_receives_what_is_published() -> None:
    app = chat_app()
    channels: Channels = app.extensions["channels"]
    async with AsyncTestClient(app) as client:
        lines: list[str] = []

        async def listen() -> None:
            async with client.stream("GET", "/events/7") as response:
                async for line in response.aiter_lines():
                    lines.append(line)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(listen)
            while "room:7" not in channels._running_hub().channels:  # subscribed: publishing is safe now
                await anyio.sleep(0.01)
            await channels.publish("room:7", {"text": "one"})
            await channels.publish("room:7", {"text": "bye"})
    assert [line for line in lines if line] == ["data: one", "data: bye"]


async def test_every_subscriber_gets_each_message_and_leaving_unsubscribes() -> None:
    app = Plait()
    channels = app.install(Channels(queue_size=5))
    async with app.running():
        async with channels.subscribe("c") as first, channels.subscribe("c") as second:
            await channels.publish("c", [1, 2])
            assert await first.get() == [1, 2]
            assert await second.get() == [1, 2]
            assert first.queue_size == 5
        assert channels._running_hub().channels == []
        await channels.publish("c", "nobody listens")  # not an error


async def test_a_per_subscriber_overflow_policy() -> None:
    app = Plait()
    channels = app.install(Channels())
    async with app.running(), channels.subscribe("c", queue_size=1, overflow="disconnect") as sub:
        await channels.publish("c", 1)
        await channels.publish("c", 2)
        with pytest.raises(SlowSubscriber):
            await sub.get()
    with pytest.raises(ValueError, match="use one of drop_oldest, disconnect"):
        channels.subscribe("c", overflow="later")  # type: ignore[call-overload]


async def test_using_channels_outside_the_running_app_says_how_to_fix_it() -> None:
    channels = Plait().install(Channels())
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        await channels.publish("c", 1)
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        async with channels.subscribe("c"):
            pass  # pragma: no cover - never entered


def test_settings_choose_the_broker_and_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CHANNELS_URL", "redis://127.0.0.1:6379/5")
    monkeypatch.setenv("PLAIT_CHANNELS_PREFIX", "myapp:")
    monkeypatch.setenv("PLAIT_CHANNELS_QUEUE_SIZE", "7")
    monkeypatch.setenv("PLAIT_CHANNELS_OVERFLOW", "disconnect")
    app = Plait()
    channels = app.install(Channels())
    app.build()
    assert isinstance(channels.broker, RedisBroker)
    assert (channels.broker.url, channels.broker.prefix) == ("redis://127.0.0.1:6379/5", "myapp:")
    assert (channels.queue_size, channels.overflow) == (7, "disconnect")

    given = MemoryBroker()
    app = Plait()
    explicit = app.install(Channels(given, queue_size=3, overflow="drop_oldest"))
    app.build()
    assert explicit.broker is given
    assert (explicit.queue_size, explicit.overflow) == (3, "drop_oldest")


def test_an_unknown_overflow_setting_fails_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CHANNELS_OVERFLOW", "block")
    app = Plait()
    app.install(Channels())
    with pytest.raises(ConfigurationError, match="PLAIT_CHANNELS_OVERFLOW='block' is not a policy"):
        app.build()
    assert ChannelsSettings().channels_overflow == "drop_oldest"

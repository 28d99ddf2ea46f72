"""RedisBroker against the real Redis: fan-out between processes' hubs, Redis down, reconnection."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pytest
from redis.asyncio import Redis

from plait import Plait
from plait.channels import Channels, ChannelsUnavailable, RedisBroker
from tests.test_hardening.server import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@asynccontextmanager
async def running(*apps: Plait) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.running())
        yield


def make(url: str, prefix: str, **options: float) -> tuple[Plait, Channels, RedisBroker]:
    broker = RedisBroker(url, prefix=prefix, **options)
    app = Plait()
    return app, app.install(Channels(broker)), broker


async def test_a_message_published_through_one_app_reaches_subscribers_of_another(
    redis_url: str, redis_prefix: str
) -> None:
    # Two apps, two brokers, two pub/sub connections: what two worker processes have.
    one, channels_one, _ = make(redis_url, redis_prefix)
    two, channels_two, _ = make(redis_url, redis_prefix)
    async with (
        running(one, two),
        channels_one.subscribe("room:1") as here,
        channels_one.subscribe("room:1") as again,
    ):
        async with channels_two.subscribe("room:1") as there:
            await channels_two.publish("room:1", {"n": 1})
            with anyio.fail_after(10):  # pub/sub keeps nothing: a lost message would otherwise wait forever
                assert await here.get() == {"n": 1}
                assert await again.get() == {"n": 1}
                assert await there.get() == {"n": 1}
        await channels_one.publish("room:1", {"n": 2})
        with anyio.fail_after(10):
            assert await here.get() == {"n": 2}


async def test_other_prefixes_do_not_hear_each_other(redis_url: str, redis_prefix: str) -> None:
    one, channels_one, _ = make(redis_url, redis_prefix + "a:")
    two, channels_two, _ = make(redis_url, redis_prefix + "b:")
    async with running(one, two), channels_one.subscribe("c") as sub:
        await channels_two.publish("c", "other app")
        await channels_one.publish("c", "mine")
        with anyio.fail_after(10):
            assert await sub.get() == "mine"


async def test_publishing_while_redis_is_down_raises_a_clear_error(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app, channels, broker = make(url, redis_prefix, subscribe_timeout=0.3, max_reconnect_delay=0.2)
    assert repr(broker) == f"RedisBroker({url!r}, prefix={redis_prefix!r})"
    async with running(app):
        with pytest.raises(ChannelsUnavailable, match=r"Could not publish to 'c': Redis at .* is not answering"):
            await channels.publish("c", 1)
        with pytest.raises(ChannelsUnavailable, match=r"did not confirm within 0\.3 s"):
            async with channels.subscribe("c"):
                pass  # pragma: no cover - never entered
        assert channels._running_hub().channels == []
    assert "Lost the Redis pub/sub connection" in caplog.text
    with pytest.raises(ChannelsUnavailable, match="only while the app runs"):
        await broker.publish("c", b"1")


async def test_a_redis_that_stops_answering_is_unavailable_not_a_hang(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A listening socket nobody reads: connections are accepted, commands never answered, as with a
    # frozen server or a network partition. A publish must give up (a 503 for the handler), not wait forever.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        url = f"redis://127.0.0.1:{hole.getsockname()[1]}/0"
        app, channels, broker = make(url, redis_prefix, publish_timeout=0.3, subscribe_timeout=0.3)
        assert broker.publish_timeout == 0.3
        async with running(app):
            with (
                anyio.fail_after(5),
                pytest.raises(ChannelsUnavailable, match=r"not answering \(no answer within 0\.3 s\)"),
            ):
                await channels.publish("c", 1)
            with anyio.fail_after(5), pytest.raises(ChannelsUnavailable, match="did not confirm"):
                async with channels.subscribe("c"):
                    pass  # pragma: no cover - never entered
    assert "Could not publish to 'c'" in caplog.text


async def test_subscribers_resume_after_the_connection_is_lost(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, channels, broker = make(redis_url, redis_prefix, max_reconnect_delay=0.2)
    admin = Redis.from_url(redis_url)
    try:
        async with running(app), channels.subscribe("c") as sub:
            # Cut this broker's pub/sub connection the way a Redis restart or a network blip would.
            clients = await admin.client_list(_type="pubsub")
            ours = [client["id"] for client in clients if client["name"] == broker.client_name]
            assert len(ours) == 1
            await admin.client_kill_filter(_id=ours[0])
            with anyio.fail_after(10):
                while True:  # published until the new connection has subscribed again
                    await channels.publish("c", "after")
                    with anyio.move_on_after(0.1):
                        assert await sub.get() == "after"
                        break
    finally:
        await admin.aclose()
    assert "reconnecting" in caplog.text

"""A subscriber's bounded queue: the overflow policies, decoding, and the hub's bookkeeping."""

from __future__ import annotations

import anyio
import msgspec
import pytest

from plait.channels import SlowSubscriber, Subscription
from plait.channels.subscription import Hub

pytestmark = pytest.mark.anyio


class Chat(msgspec.Struct):
    text: str


async def test_drop_oldest_keeps_the_newest_messages_and_counts_the_rest() -> None:
    sub: Subscription[int] = Subscription("c", queue_size=3, type=int)
    for n in range(10):
        sub.put(str(n).encode())
    # Memory stays bounded by queue_size however far behind the reader is.
    assert len(list(sub.pending())) == 3
    assert sub.dropped == 7
    assert [await sub.get() for _ in range(3)] == [7, 8, 9]


async def test_disconnect_ends_the_subscription_with_slow_subscriber() -> None:
    sub: Subscription[int] = Subscription("c", queue_size=2, overflow="disconnect", type=int)
    for n in range(3):
        sub.put(str(n).encode())
    assert list(sub.pending()) == []  # the backlog is dropped, not delivered late
    with pytest.raises(SlowSubscriber, match="fell 2 messages behind"):
        await sub.get()
    sub.put(b"4")  # ignored once ended
    with pytest.raises(SlowSubscriber):
        await sub.get()


async def test_messages_decode_into_the_given_type_and_bad_ones_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    sub: Subscription[Chat] = Subscription("c", type=Chat)
    sub.put(b"not json")
    sub.put(b'{"text": 1}')
    sub.put(b'{"text": "hi"}')
    assert await sub.get() == Chat("hi")
    assert caplog.text.count("does not decode") == 2


async def test_a_reader_waits_for_the_next_message() -> None:
    sub: Subscription[str] = Subscription("c", type=str)
    got: list[str] = []

    async def read() -> None:
        async for message in sub:
            got.append(message)
            if len(got) == 2:
                return

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read)
        await anyio.sleep(0)
        sub.put(b'"a"')
        await anyio.sleep(0)
        sub.put(b'"b"')
    assert got == ["a", "b"]


def test_the_hub_reports_first_and_last_subscribers() -> None:
    hub = Hub()
    one: Subscription[object] = Subscription("a")
    two: Subscription[object] = Subscription("a")
    other: Subscription[object] = Subscription("b")
    assert hub.add(one) is True
    assert hub.add(two) is False
    assert hub.add(other) is True
    assert sorted(hub.channels) == ["a", "b"]
    assert hub.deliver("a", b"1") == 2
    assert hub.deliver("nobody", b"1") == 0
    assert hub.remove(one) is False
    assert hub.remove(one) is False  # twice is harmless
    assert hub.remove(two) is True
    assert hub.remove(Subscription("gone")) is False
    assert hub.channels == ["b"]

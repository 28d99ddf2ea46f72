"""One subscriber's bounded queue, and the hub that fans a channel's messages out to its subscribers.

A subscriber that reads slower than messages arrive must not make the process grow without bound,
so each :class:`Subscription` holds at most ``queue_size`` undelivered messages. When it is full,
the overflow policy decides:

* ``"drop_oldest"`` (the default): the oldest waiting message is discarded and counted in
  :attr:`Subscription.dropped`; a live feed (chat, prices, progress) cares most about what is new.
* ``"disconnect"``: the subscription ends with :class:`SlowSubscriber` the next time it is read, so
  the handler can close the WebSocket and let the client reconnect and catch up by other means.

>>> hub = Hub()
>>> sub = Subscription("room:1", queue_size=2)
>>> hub.add(sub)
True
>>> for n in (1, 2, 3):
...     _ = hub.deliver("room:1", str(n).encode())
>>> sub.dropped, list(sub.pending())
(1, [b'2', b'3'])
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from typing import Any, Generic, Literal, TypeVar

import anyio
import msgspec

from plait.exceptions import PlaitError

T = TypeVar("T")

Overflow = Literal["drop_oldest", "disconnect"]
OVERFLOW_POLICIES: tuple[Overflow, ...] = ("drop_oldest", "disconnect")

logger = logging.getLogger("plait.channels")


class ChannelsError(PlaitError):
    """Base class of the broadcast errors."""


class ChannelsUnavailable(ChannelsError):
    """The broker (Redis) cannot be reached: the message was not published, or the subscription not made."""


class SlowSubscriber(ChannelsError):
    """The subscriber fell ``queue_size`` messages behind under the ``"disconnect"`` policy."""


class Subscription(Generic[T]):
    """Messages published to one channel, in order, as an async iterator (``async for msg in sub``).

    Made by ``channels.subscribe(...)``; it stops receiving when that block ends.
    """

    def __init__(
        self,
        channel: str,
        *,
        queue_size: int = 100,
        overflow: Overflow = "drop_oldest",
        type: Any = Any,
    ) -> None:
        self.channel = channel
        self.queue_size = queue_size
        self.overflow = overflow
        self.dropped = 0
        """How many messages were discarded because this subscriber was ``queue_size`` behind."""
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(type)
        self._queue: deque[bytes] = deque()
        self._wake = anyio.Event()
        self._error: ChannelsError | None = None

    def put(self, data: bytes) -> None:
        """Queue one encoded message (called by the hub, on the event loop); never blocks."""
        if self._error is not None:
            return
        if len(self._queue) >= self.queue_size:
            if self.overflow == "disconnect":
                self._disconnect()
                return
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(data)
        self._wake.set()

    def _disconnect(self) -> None:
        """End the subscription: its next read raises SlowSubscriber."""
        self._error = SlowSubscriber(
            f"The subscriber to {self.channel!r} fell {self.queue_size} messages behind and was "
            "disconnected; read faster, raise queue_size, or use overflow='drop_oldest'."
        )
        self._queue.clear()  # the policy is to stop, not to deliver a backlog the reader cannot keep up with
        self._wake.set()

    def pending(self) -> Iterator[bytes]:
        """The encoded messages waiting to be read, oldest first (for inspection and tests)."""
        return iter(self._queue)

    async def get(self) -> T:
        """The next message, waiting for one; raises :class:`SlowSubscriber` under the disconnect policy."""
        while True:
            while not self._queue:
                if self._error is not None:
                    raise self._error
                await self._wake.wait()
                self._wake = anyio.Event()
            data = self._queue.popleft()
            try:
                value: T = self._decoder.decode(data)
            except msgspec.DecodeError as exc:  # another publisher's payload: skip it, keep the stream going
                logger.warning("Skipped a message on %r that does not decode (%s)", self.channel, exc)
                continue
            return value

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()


class Hub:
    """This process's subscribers by channel; a broker hands it every message it receives."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription[Any]]] = {}

    @property
    def channels(self) -> list[str]:
        """The channels with at least one subscriber here."""
        return list(self._subscribers)

    def add(self, subscription: Subscription[Any]) -> bool:
        """Register a subscriber; True when it is the channel's first here (the broker then subscribes)."""
        subscribers = self._subscribers.setdefault(subscription.channel, set())
        subscribers.add(subscription)
        return len(subscribers) == 1

    def remove(self, subscription: Subscription[Any]) -> bool:
        """Forget a subscriber; True when it was the channel's last here (the broker then unsubscribes)."""
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is None or subscription not in subscribers:
            return False
        subscribers.discard(subscription)
        if subscribers:
            return False
        del self._subscribers[subscription.channel]
        return True

    def deliver(self, channel: str, data: bytes) -> int:
        """Queue ``data`` for every subscriber of ``channel`` here; returns how many there were."""
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return 0
        for subscription in subscribers:
            subscription.put(data)
        return len(subscribers)

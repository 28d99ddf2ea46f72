"""Where published messages travel: this process only (:class:`MemoryBroker`) or every process (:class:`RedisBroker`).

A broker moves encoded messages; the :class:`~plait.channels.subscription.Hub` it is given fans them
out to this process's subscribers. The broker hears about a channel only when its first local
subscriber arrives and its last one leaves, so a thousand WebSockets on one room cost one Redis
subscription per process.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from plait.channels.subscription import ChannelsUnavailable, Hub

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger("plait.channels")


class Broker(Protocol):
    """What :class:`~plait.channels.Channels` needs of a broker."""

    def running(self, hub: Hub) -> contextlib.AbstractAsyncContextManager[None]:
        """Connect and deliver incoming messages to ``hub`` until the block ends."""

    async def publish(self, channel: str, data: bytes) -> None:
        """Send ``data`` to every subscriber of ``channel`` (raise ChannelsUnavailable when that is impossible)."""

    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel`` (its first subscriber in this process arrived)."""

    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving ``channel`` (its last subscriber in this process left)."""


class MemoryBroker:
    """Messages stay in this process: for development, tests and single-process apps.

    >>> MemoryBroker()
    MemoryBroker()
    """

    def __init__(self) -> None:
        self._hub: Hub | None = None

    def __repr__(self) -> str:
        return "MemoryBroker()"

    @contextlib.asynccontextmanager
    async def running(self, hub: Hub) -> AsyncIterator[None]:
        self._hub = hub
        try:
            yield
        finally:
            self._hub = None

    async def publish(self, channel: str, data: bytes) -> None:
        if self._hub is not None:
            self._hub.deliver(channel, data)

    async def subscribe(self, channel: str) -> None:
        """Nothing to do: the hub already knows the subscriber."""

    async def unsubscribe(self, channel: str) -> None:
        """Nothing to do."""


class RedisBroker:
    """Redis pub/sub: a message published by any process reaches the subscribers of every process.

    Each process keeps one pub/sub connection, shared by all its subscriptions, and a reader task on
    it. When Redis goes away the reader logs a warning and reconnects with a growing delay (up to
    ``max_reconnect_delay``), then subscribes again to every channel that still has subscribers;
    messages published meanwhile are lost (pub/sub keeps no history). Publishing while Redis is down
    raises :class:`~plait.channels.ChannelsUnavailable`.

    >>> RedisBroker("redis://127.0.0.1:6379/0", prefix="chat:")
    RedisBroker('redis://127.0.0.1:6379/0', prefix='chat:')
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "plait:channels:",
        subscribe_timeout: float = 5.0,
        max_reconnect_delay: float = 5.0,
        publish_timeout: float = 5.0,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401 - checked here so the message can say what to install
        except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
            raise ImportError(
                f"RedisBroker needs redis-py ({exc}); install it with: pip install 'plait[redis]'"
            ) from exc
        self.url = url
        self.prefix = prefix
        self.subscribe_timeout = subscribe_timeout
        self.max_reconnect_delay = max_reconnect_delay
        self.publish_timeout = publish_timeout
        """Seconds ``publish`` waits for Redis: one that accepts connections but stopped answering (a full
        network partition, a frozen server) is then unavailable too, instead of holding the request forever."""
        self.client_name = f"plait-channels-{uuid.uuid4().hex[:12]}"
        """The name of this process's connections (``CLIENT LIST`` shows it)."""
        self._hub: Hub | None = None
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._connected = anyio.Event()
        self._confirmed: dict[bytes, anyio.Event] = {}
        # A channel nobody publishes to keeps the connection subscribed (redis-py reads only then)
        # even while this process has no subscribers of its own.
        self._own = f"{prefix}\x00process:{self.client_name}".encode()

    def __repr__(self) -> str:
        return f"RedisBroker({self.url!r}, prefix={self.prefix!r})"

    @contextlib.asynccontextmanager
    async def running(self, hub: Hub) -> AsyncIterator[None]:
        from redis.asyncio import Redis

        self._hub = hub
        self._client = Redis.from_url(self.url, client_name=self.client_name, socket_connect_timeout=5)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._read_forever)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            client, self._client, self._hub = self._client, None, None
            await self._close_pubsub()
            await client.aclose()

    async def publish(self, channel: str, data: bytes) -> None:
        from redis.exceptions import ConnectionError, TimeoutError

        client = self._running_client()
        try:
            # The pub/sub reader shares the client, so it has no socket timeout (it waits for messages as
            # long as they take); this bound is for publishing alone. Cancelling drops that connection.
            with anyio.fail_after(self.publish_timeout):
                await client.publish(self.prefix + channel, data)
        except builtins.TimeoutError:
            raise self._unavailable(channel, f"no answer within {self.publish_timeout:g} s") from None
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise self._unavailable(channel, str(exc)) from exc

    def _unavailable(self, channel: str, reason: str) -> ChannelsUnavailable:
        logger.warning("Could not publish to %r: Redis at %s is not answering (%s)", channel, self.url, reason)
        return ChannelsUnavailable(
            f"Could not publish to {channel!r}: Redis at {self.url} is not answering ({reason}). "
            "Check that Redis is running and PLAIT_CHANNELS_URL points at it."
        )

    async def subscribe(self, channel: str) -> None:
        """Subscribe and wait until Redis confirms, so a message published right after is received."""
        key = (self.prefix + channel).encode()
        confirmed = self._confirmed[key] = anyio.Event()
        with anyio.move_on_after(self.subscribe_timeout):
            await self._connected.wait()
            pubsub = self._pubsub
            if pubsub is not None:
                with contextlib.suppress(Exception):  # a broken connection: the reader reconnects and resubscribes
                    await pubsub.subscribe(key)
            await confirmed.wait()
            return
        self._confirmed.pop(key, None)
        raise ChannelsUnavailable(
            f"Could not subscribe to {channel!r}: Redis at {self.url} did not confirm within "
            f"{self.subscribe_timeout} s. Check that Redis is running and PLAIT_CHANNELS_URL points at it."
        )

    async def unsubscribe(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is not None:
            # Best effort, and bounded: a broken connection has no subscriptions left anyway, and a Redis
            # that stopped answering must not hold the handler that is leaving (the reader resubscribes
            # only the channels that still have subscribers when it reconnects).
            with contextlib.suppress(Exception), anyio.move_on_after(self.subscribe_timeout):
                await pubsub.unsubscribe((self.prefix + channel).encode())

    def _running_client(self) -> Redis:
        if self._client is None:
            raise ChannelsUnavailable("The Redis broker runs only while the app runs (inside its lifespan).")
        return self._client

    async def _read_forever(self) -> None:
        from redis.exceptions import ConnectionError, TimeoutError

        delay = 0.1
        while True:
            try:
                await self._connect()
                delay = 0.1
                await self._read()
            except (ConnectionError, TimeoutError, OSError) as exc:
                self._connected = anyio.Event()
                logger.warning(
                    "Lost the Redis pub/sub connection to %s (%s); reconnecting in %.1f s", self.url, exc, delay
                )
                await self._close_pubsub()
                await anyio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)

    async def _connect(self) -> None:
        pubsub = self._running_client().pubsub()
        self._pubsub = pubsub
        hub = self._hub
        channels = [(self.prefix + name).encode() for name in (hub.channels if hub is not None else [])]
        await pubsub.subscribe(self._own, *channels)
        self._connected.set()

    async def _read(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None  # set by _connect
        prefix = self.prefix.encode()
        while True:
            message: dict[str, Any] | None = await pubsub.get_message(timeout=None)
            if message is None:  # pragma: no cover - only without a timeout's block, which is not used
                continue
            kind, channel = message["type"], message["channel"]
            if kind == "message" and self._hub is not None:
                self._hub.deliver(channel[len(prefix) :].decode(), message["data"])
            elif kind == "subscribe":
                event = self._confirmed.pop(channel, None)
                if event is not None:
                    event.set()

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception), anyio.CancelScope(shield=True):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

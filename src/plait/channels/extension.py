"""The :class:`Channels` extension: publish to a named channel, subscribe to it from any handler."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, overload

import msgspec

from plait.channels.brokers import Broker, MemoryBroker, RedisBroker
from plait.channels.subscription import OVERFLOW_POLICIES, ChannelsUnavailable, Hub, Overflow, Subscription
from plait.di.markers import Depends
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.requests import Request
from plait.routing.router import ExceptionHandler, ExceptionKey

if TYPE_CHECKING:
    from plait.app import Plait

T = TypeVar("T")


class ChannelsSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Read from ``PLAIT_CHANNELS_*`` variables.

    >>> ChannelsSettings().channels_queue_size
    100
    """

    channels_url: str = ""
    """``redis://host:6379/0`` to broadcast across processes and machines; empty: this process only."""
    channels_prefix: str = "plait:channels:"
    """Put before every channel name in Redis, so that several apps can share one server."""
    channels_queue_size: Annotated[int, msgspec.Meta(ge=1)] = 100
    """Messages kept for a subscriber that reads slower than they arrive; beyond it the overflow policy applies."""
    channels_overflow: str = "drop_oldest"
    """``drop_oldest`` (discard and count in ``Subscription.dropped``) or ``disconnect`` (``SlowSubscriber``)."""


class Channels(Extension):
    """Broadcast: ``await channels.publish("room:1", msg)``; ``async with channels.subscribe("room:1") as sub``.

    A handler parameter annotated ``Channels`` receives the installed extension. With no broker given,
    ``PLAIT_CHANNELS_URL`` chooses: Redis when set, else this process only (:class:`MemoryBroker`).

    >>> import anyio
    >>> from plait import Plait
    >>> app = Plait()
    >>> channels = app.install(Channels())
    >>> async def demo() -> object:
    ...     async with app.running(), channels.subscribe("room:1") as sub:
    ...         await channels.publish("room:1", {"text": "hi"})
    ...         return await sub.get()
    >>> anyio.run(demo)
    {'text': 'hi'}
    """

    name = "channels"
    settings_type = ChannelsSettings

    def __init__(
        self, broker: Broker | None = None, *, queue_size: int | None = None, overflow: Overflow | None = None
    ) -> None:
        self._given = broker
        self._queue_size = queue_size
        self._overflow = overflow
        self.broker: Broker = broker if broker is not None else MemoryBroker()
        self.queue_size = queue_size or 100
        self.overflow: Overflow = overflow or "drop_oldest"
        self._hub: Hub | None = None
        self._encoder = msgspec.json.Encoder()

    def setup(self, app: Plait[Any]) -> None:
        settings: ChannelsSettings = self.settings
        overflow = self._overflow or settings.channels_overflow
        if overflow not in OVERFLOW_POLICIES:
            raise ConfigurationError(
                f"PLAIT_CHANNELS_OVERFLOW={overflow!r} is not a policy; use one of {', '.join(OVERFLOW_POLICIES)}."
            )
        self.overflow = overflow
        self.queue_size = self._queue_size or settings.channels_queue_size
        if self._given is None:
            url = settings.channels_url
            self.broker = RedisBroker(url, prefix=settings.channels_prefix) if url else MemoryBroker()

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        hub = Hub()
        async with self.broker.running(hub):
            self._hub = hub
            try:
                yield
            finally:
                self._hub = None

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        return {ChannelsUnavailable: broker_unavailable}

    def providers(self) -> Mapping[Any, Depends]:
        return {Channels: Depends(self._self)}

    def _self(self) -> Channels:
        return self

    def _running_hub(self) -> Hub:
        if self._hub is None:
            raise ConfigurationError(
                "Channels work only while the app runs: publish and subscribe inside a handler, a lifespan, "
                "`async with app.running():` or a TestClient block."
            )
        return self._hub

    async def publish(self, channel: str, message: Any) -> None:
        """Send ``message`` (anything msgspec encodes to JSON) to every subscriber of ``channel``, in every process.

        Raises :class:`~plait.channels.ChannelsUnavailable` when the broker cannot be reached.
        """
        self._running_hub()
        await self.broker.publish(channel, self._encoder.encode(message))

    @overload
    def subscribe(
        self, channel: str, *, queue_size: int | None = None, overflow: Overflow | None = None
    ) -> contextlib.AbstractAsyncContextManager[Subscription[Any]]: ...
    @overload
    def subscribe(
        self, channel: str, *, type: type[T], queue_size: int | None = None, overflow: Overflow | None = None
    ) -> contextlib.AbstractAsyncContextManager[Subscription[T]]: ...
    def subscribe(
        self, channel: str, *, type: Any = Any, queue_size: int | None = None, overflow: Overflow | None = None
    ) -> contextlib.AbstractAsyncContextManager[Subscription[Any]]:
        """Receive what is published to ``channel`` from now on, until the block ends.

        ``type`` decodes each message into that type (a ``msgspec.Struct``, ``dict[str, int]``, ...);
        messages that do not match are logged and skipped. ``queue_size`` and ``overflow`` override
        the app's settings for this subscriber.
        """
        if overflow is not None and overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow={overflow!r} is not a policy; use one of {', '.join(OVERFLOW_POLICIES)}.")
        subscription: Subscription[Any] = Subscription(
            channel, queue_size=queue_size or self.queue_size, overflow=overflow or self.overflow, type=type
        )
        return self._subscribed(subscription)

    @contextlib.asynccontextmanager
    async def _subscribed(self, subscription: Subscription[Any]) -> AsyncIterator[Subscription[Any]]:
        hub = self._running_hub()
        channel = subscription.channel
        try:
            if hub.add(subscription):
                await self.broker.subscribe(channel)
            yield subscription
        finally:
            if hub.remove(subscription):
                await self.broker.unsubscribe(channel)


def broker_unavailable(request: Request, exc: Exception) -> ProblemResponse:
    """Redis cannot be reached from a handler: a 503 the client may retry, never a 500."""
    logging.getLogger("plait.channels").error("%s", exc)
    detail = "The message broker is unavailable: the message was not published. Try again shortly."
    return ProblemResponse(503, detail=detail, headers={"retry-after": "1"})

"""Broadcast: WebSocket and SSE fan-out, in one process or across many (Redis pub/sub).

::

    import anyio

    from plait import Plait, WebSocket
    from plait.channels import Channels

    app = Plait(extensions=[Channels()])   # PLAIT_CHANNELS_URL=redis://... to span processes

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket, room: str, channels: Channels) -> None:
        await ws.accept()
        async with channels.subscribe(f"room:{room}") as messages, anyio.create_task_group() as tasks:

            async def relay() -> None:
                async for message in messages:
                    await ws.send_json(message)

            tasks.start_soon(relay)
            async for text in ws.iter_text():   # until the client leaves
                await channels.publish(f"room:{room}", {"text": text})
            tasks.cancel_scope.cancel()

    @app.post("/rooms/{room}")
    async def say(room: str, text: str, channels: Channels) -> None:
        await channels.publish(f"room:{room}", {"text": text})

Reading the client while relaying matters: a handler that only sends would notice that the client
left at its next send, holding the subscription (and the close handshake) until then. An SSE
generator needs no such care: the response closes it when the client disconnects.

Each subscriber has a bounded queue (``PLAIT_CHANNELS_QUEUE_SIZE``, 100 messages): a slow reader
loses its oldest messages (counted in ``Subscription.dropped``), or with
``PLAIT_CHANNELS_OVERFLOW=disconnect`` is ended with :class:`SlowSubscriber`. Delivery is
at-most-once: a subscriber sees what is published while it is subscribed, nothing earlier, and
nothing published while Redis is unreachable. Redis needs ``pip install 'plait[redis]'``.
"""

from plait.channels.brokers import Broker, MemoryBroker, RedisBroker
from plait.channels.extension import Channels, ChannelsSettings
from plait.channels.subscription import ChannelsError, ChannelsUnavailable, Overflow, SlowSubscriber, Subscription

__all__ = [
    "Broker",
    "Channels",
    "ChannelsError",
    "ChannelsSettings",
    "ChannelsUnavailable",
    "MemoryBroker",
    "Overflow",
    "RedisBroker",
    "SlowSubscriber",
    "Subscription",
]

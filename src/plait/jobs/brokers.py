"""The taskiq brokers Plait configures: in-process for development, Redis Streams for production.

:class:`StreamBroker` is taskiq-redis's Redis Streams broker with three changes that durable jobs need:

* the consumer group reads the stream from its start, so jobs enqueued before any worker ever ran
  are not skipped;
* acknowledging a job also deletes its entry, so the stream holds only jobs not yet done (and never
  needs a length cap that could drop unprocessed ones);
* losing Redis does not end the worker: it logs, waits with a growing delay, and reads again
  (recreating the consumer group when Redis came back empty).

Delivery is at-least-once: a job is acknowledged after it ran (and its result was saved); a job
whose worker died is claimed by another worker once it has waited ``redelivery_timeout`` seconds
unacknowledged. A job that runs longer than that is delivered twice, so keep the timeout above
your longest job (and write jobs so that running twice is harmless).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import anyio
from redis.asyncio import Redis
from redis.exceptions import ConnectionError, ResponseError, TimeoutError
from taskiq import AckableMessage, AsyncResultBackend, BrokerMessage, TaskiqResult
from taskiq_redis import RedisStreamBroker

logger = logging.getLogger("plait.jobs")

KEEP_RESULT = "plait_keep_result"
"""The label marking a job declared with ``result=True``: only its results are stored."""


class StreamBroker(RedisStreamBroker):
    """Jobs on a Redis stream, read by a consumer group shared by every ``plait worker``."""

    def __init__(
        self,
        url: str,
        *,
        queue_name: str = "plait:jobs",
        redelivery_timeout: float = 600.0,
        block: float = 2.0,
        max_reconnect_delay: float = 5.0,
        timeout: float = 3.0,
    ) -> None:
        block = min(block, redelivery_timeout)
        super().__init__(
            url,
            queue_name=queue_name,
            consumer_group_name="plait",
            consumer_id="0",  # a new group starts at the stream's first entry: nothing enqueued earlier is lost
            idle_timeout=int(redelivery_timeout * 1000),
            # Unclaimed jobs are looked for between reads: at least once per redelivery timeout.
            xread_block=max(1, int(block * 1000)),  # 0 would block forever
            # One entry per read: an entry read but not yet started would age towards redelivery meanwhile.
            xread_count=1,
            # A Redis that accepts connections but stopped answering (a frozen server, a partition) is
            # treated as down: reads give up past the block time, so the worker reconnects and waits.
            socket_connect_timeout=timeout,
            socket_timeout=block + timeout,
        )
        self.url = url
        self.max_reconnect_delay = max_reconnect_delay
        self.timeout = timeout
        """Seconds an enqueue (or connecting) waits for Redis before the job counts as not sent."""

    async def _declare_consumer_group(self) -> None:
        # An app must start while Redis is down (enqueue() raises JobsUnavailable meanwhile, and a
        # worker's reader recreates the group once Redis answers), so this only warns.
        try:
            with anyio.fail_after(self.timeout):
                await super()._declare_consumer_group()
        except builtins.TimeoutError:
            logger.warning("Redis at %s did not answer within %g s; jobs wait until it is back", self.url, self.timeout)
        except (ConnectionError, TimeoutError, OSError) as exc:
            logger.warning("Redis at %s is not answering (%s); jobs wait until it is back", self.url, exc)

    async def kick(self, message: BrokerMessage) -> None:
        # Bounded: enqueueing from a handler must not hang on a Redis that stopped answering (the caller
        # gets JobsUnavailable, a 503). Cancelling drops that connection; at worst the job was sent after
        # all and runs, which at-least-once delivery allows.
        try:
            with anyio.fail_after(self.timeout):
                await super().kick(message)
        except builtins.TimeoutError:
            raise TimeoutError(f"Redis at {self.url} did not answer within {self.timeout:g} s") from None

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with Redis(connection_pool=self.connection_pool) as redis, redis.pipeline() as pipe:
                pipe.xack(queue_name, self.consumer_group_name, id)
                pipe.xdel(queue_name, id)
                await pipe.execute()

        return ack

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        delay = 0.1
        while True:
            try:
                async for message in self._read():
                    delay = 0.1
                    yield message
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                logger.warning(
                    "The jobs stream %r had no consumer group (Redis restarted empty?); recreating it", self.queue_name
                )
                await self._declare_consumer_group()
            except (ConnectionError, TimeoutError, OSError) as exc:
                logger.warning("Lost Redis at %s while reading jobs (%s); retrying in %.1f s", self.url, exc, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)

    async def _read(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                # First the jobs another worker took and never acknowledged (it died), then new ones.
                claimed = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for entry_id, fields in claimed[1]:
                    if fields:  # pragma: no branch - Redis 7 leaves deleted entries out
                        logger.info("Redelivering job %s, unacknowledged for too long", entry_id)
                        yield self._message(entry_id, fields)
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
                for _, entries in fetched or []:
                    for entry_id, fields in entries:
                        yield self._message(entry_id, fields)

    def _message(self, entry_id: bytes, fields: dict[bytes, bytes]) -> AckableMessage:
        return AckableMessage(data=fields[b"data"], ack=self._ack_generator(entry_id, self.queue_name))  # type: ignore[arg-type]


class KeptResults(AsyncResultBackend[Any]):
    """Stores the results of jobs declared with ``result=True`` in ``inner``, and of no others."""

    def __init__(self, inner: AsyncResultBackend[Any]) -> None:
        self.inner = inner

    async def startup(self) -> None:
        await self.inner.startup()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def set_result(self, task_id: str, result: TaskiqResult[Any]) -> None:
        if str(result.labels.get(KEEP_RESULT)).lower() == "true":
            await self.inner.set_result(task_id, result)

    async def is_result_ready(self, task_id: str) -> bool:
        return await self.inner.is_result_ready(task_id)

    async def get_result(self, task_id: str, with_logs: bool = False) -> TaskiqResult[Any]:
        return await self.inner.get_result(task_id, with_logs=with_logs)

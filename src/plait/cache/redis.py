"""The Redis cache backend (redis-py's asyncio client), which keeps serving while Redis is down.

Every operation that cannot reach Redis answers as if the cache were empty (a miss, a write
dropped) and the app goes on serving from its real data source. The first failure logs a
warning (at most one per ``warn_interval`` seconds, on the ``plait.cache`` logger); for the next
``retry_interval`` seconds operations skip Redis entirely, so requests do not each wait for a
connection timeout. After that the next operation tries again, and the first success logs the
recovery: nothing has to be restarted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from plait.cache.outage import Outage

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger("plait.cache")
T = TypeVar("T")
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


def redis_client(url: str, *, timeout: float) -> aioredis.Redis:
    """A redis-py asyncio client for ``url`` with short timeouts, or an ImportError naming the extra to install."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:  # pragma: no cover - redis is installed wherever the tests run
        raise ImportError(
            f"Plait's Redis backends need redis-py ({exc}); install it with: pip install 'plait[redis]'"
        ) from exc
    return aioredis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis cannot be reached" (not "the command was wrong")."""
    from redis import exceptions

    return (exceptions.ConnectionError, exceptions.TimeoutError, OSError)


def describe(url: str) -> str:
    """``url`` without its password, for log messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"Redis at {scheme}{sep}{rest}"


class RedisBackend:
    """A :class:`~plait.cache.CacheBackend` on Redis, shared by every worker and machine.

    >>> backend = RedisBackend("redis://127.0.0.1:6379/0")  # nothing is connected until first use
    >>> backend.outage.what
    'Redis at redis://127.0.0.1:6379/0'

    ``timeout`` bounds each connection attempt and command (seconds). ``client`` takes an existing
    ``redis.asyncio.Redis`` instead of ``url`` (it is then not closed by :meth:`aclose`).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: aioredis.Redis | None = None,
        timeout: float = 1.0,
        warn_interval: float = 60.0,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._owned = client is None
        self.client = client if client is not None else redis_client(url, timeout=timeout)
        self._errors = unavailable_errors()
        self.outage = Outage(
            logger, describe(url), warn_interval=warn_interval, retry_interval=retry_interval, clock=clock
        )

    async def _call(self, operation: Callable[[], Awaitable[T]], fallback: T) -> T:
        if not self.outage.available():
            return fallback
        try:
            result = await operation()
        except self._errors as exc:
            self.outage.failed(exc, "; the cache answers misses and drops writes meanwhile")
            return fallback
        self.outage.succeeded()
        return result

    async def get(self, key: str) -> bytes | None:
        async def read() -> bytes | None:
            return cast("bytes | None", await self.client.get(key))  # bytes: the client never decodes responses

        return await self._call(read, None)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []

        async def read() -> list[bytes | None]:
            return cast("list[bytes | None]", await self.client.mget(list(keys)))

        return await self._call(read, [None] * len(keys))

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await self._call(lambda: self.client.set(key, value, px=_millis(ttl)), None)

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        if not items:
            return

        async def write() -> None:
            async with self.client.pipeline(transaction=True) as pipe:
                for key, value in items.items():
                    pipe.set(key, value, px=_millis(ttl))
                await pipe.execute()

        await self._call(write, None)

    async def delete(self, key: str) -> bool:
        return bool(await self._call(lambda: self.client.delete(key), 0))

    async def incr(self, key: str, delta: int, ttl: float | None) -> int | None:
        async def add() -> int:
            async with self.client.pipeline(transaction=True) as pipe:
                # SET NX first: a new counter gets its expiry, an existing one keeps its own.
                pipe.set(key, b"0", px=_millis(ttl), nx=True)
                pipe.incrby(key, delta)
                results: list[Any] = await pipe.execute(raise_on_error=False)
            if isinstance(results[1], Exception):
                raise ValueError(f"The cache value at {key!r} is not an integer; incr() only adds to counters.")
            return int(results[1])

        return await self._call(add, None)

    async def clear(self, prefix: str) -> int:
        async def scan_and_delete() -> int:
            deleted = 0
            batch: list[bytes] = []
            # SCAN with a MATCH on our own prefix: never KEYS (it blocks the server) nor FLUSHDB (other data).
            async for key in self.client.scan_iter(match=prefix.translate(_GLOB_SPECIAL) + "*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    deleted += await self.client.delete(*batch)
                    batch = []
            if batch:
                deleted += await self.client.delete(*batch)
            return deleted

        return await self._call(scan_and_delete, 0)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


def _millis(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


__all__ = ["RedisBackend", "describe", "redis_client", "unavailable_errors"]

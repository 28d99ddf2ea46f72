"""Rate limits on Redis: one Lua script per algorithm, so each check is atomic across every worker.

A script runs alone on the Redis server: reading the counters, deciding and writing them back
cannot interleave with another worker's request, so a limit of N admits exactly N whichever
process answers. Times come from the caller's clock (``now``), which keeps every worker on one
window as long as their clocks agree (NTP); the keys expire on their own once their window has passed.

When Redis cannot be reached, :meth:`RedisRateLimitBackend.hit` returns None (one warning per
interval on the ``plait.ratelimit`` logger) and the limit fails open or closed, as configured.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plait.cache.outage import Outage
from plait.cache.redis import describe, redis_client, unavailable_errors
from plait.ratelimit.limits import (
    Algorithm,
    Decision,
    Limit,
    bucket_decision,
    fixed_decision,
    sliding_decision,
    sliding_weight,
    window,
)

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger("plait.ratelimit")

# KEYS[1]: the window's counter. ARGV: expiry (ms). Returns the count, this request included.
_FIXED = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""

# KEYS[1], KEYS[2]: this window's and the previous window's counters. ARGV: amount, weight of the
# previous window, expiry (ms). Counts the request only when it fits. Returns {allowed, current, previous}.
_SLIDING = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 > tonumber(ARGV[1]) then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, current, previous}
"""

# KEYS[1]: a hash {tokens, ts}. ARGV: amount, refill per second, now, expiry (ms).
# Returns {allowed, tokens left as a string} (a Lua number would be truncated to an integer).
_BUCKET = """
local amount = tonumber(ARGV[1])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = amount
else
  tokens = math.min(amount, tokens + math.max(0, now - last) * tonumber(ARGV[2]))
end
local allowed = 0
if tokens >= 1 - 1e-9 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, string.format('%.17g', tokens)}
"""


class RedisRateLimitBackend:
    """A :class:`~plait.ratelimit.RateLimitBackend` on Redis, correct across workers and machines.

    >>> backend = RedisRateLimitBackend("redis://127.0.0.1:6379/0")  # connects on first use
    >>> backend.outage.what
    'Redis at redis://127.0.0.1:6379/0'
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: aioredis.Redis | None = None,
        timeout: float = 1.0,
        warn_interval: float = 60.0,
        retry_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._owned = client is None
        self.client = client if client is not None else redis_client(url, timeout=timeout)
        self._errors = unavailable_errors()
        self.outage = Outage(
            logger, describe(url), warn_interval=warn_interval, retry_interval=retry_interval, clock=monotonic
        )
        self._scripts = {
            "fixed-window": self.client.register_script(_FIXED),
            "sliding-window": self.client.register_script(_SLIDING),
            "token-bucket": self.client.register_script(_BUCKET),
        }

    async def hit(self, key: str, limit: Limit, algorithm: Algorithm, now: float) -> Decision | None:
        if not self.outage.available():
            return None
        try:
            decision = await self._hit(key, limit, algorithm, now)
        except self._errors as exc:
            self.outage.failed(exc, "; rate limits fail open or closed as configured meanwhile")
            return None
        self.outage.succeeded()
        return decision

    async def _hit(self, key: str, limit: Limit, algorithm: Algorithm, now: float) -> Decision:
        base = f"{key}:{algorithm}"
        index, _ = window(limit, now)
        script = self._scripts[algorithm]
        if algorithm == "fixed-window":
            count: Any = await script(keys=[f"{base}:{index}"], args=[_millis(limit.period)])
            return fixed_decision(limit, now, int(count))
        if algorithm == "sliding-window":
            weight = repr(sliding_weight(limit, now))
            keys = [f"{base}:{index}", f"{base}:{index - 1}"]
            allowed, current, previous = await script(keys=keys, args=[limit.amount, weight, _millis(2 * limit.period)])
            return sliding_decision(limit, now, bool(allowed), int(current), int(previous))
        args: list[str | int] = [limit.amount, repr(limit.amount / limit.period), repr(now), _millis(limit.period)]
        allowed, tokens = await script(keys=[base], args=args)
        return bucket_decision(limit, bool(allowed), float(tokens))

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


def _millis(seconds: float) -> int:
    """An expiry a second past ``seconds``, so that a key outlives the window it counts."""
    return math.ceil(seconds * 1000) + 1000

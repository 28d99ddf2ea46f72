"""Where rate-limit counters live: the protocol, and the in-memory backend for one process.

A backend answers :meth:`RateLimitBackend.hit`: count one request under ``key`` against a
:class:`~plait.ratelimit.Limit` with an algorithm, atomically, and return the
:class:`~plait.ratelimit.Decision` (None when the store is unavailable: the caller then fails open
or closed). The memory backend is exact for one process; with several workers use
:class:`~plait.ratelimit.RedisRateLimitBackend`, or each worker admits its own quota.

>>> import anyio
>>> from plait.ratelimit.limits import Limit
>>> backend = MemoryRateLimitBackend()
>>> async def three() -> list[bool]:
...     limit = Limit.parse("2/minute")
...     return [(await backend.hit("ip:1", limit, "fixed-window", 0.0)).allowed for _ in range(3)]
>>> anyio.run(three)
[True, True, False]
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable

from plait.exceptions import ConfigurationError
from plait.ratelimit.limits import (
    Algorithm,
    Decision,
    Limit,
    bucket_decision,
    fixed_decision,
    refill,
    sliding_allows,
    sliding_decision,
    window,
)

EPSILON = 1e-9


@runtime_checkable
class RateLimitBackend(Protocol):
    """Counts requests; ``now`` is the caller's clock (seconds since the epoch, or any steady clock)."""

    async def hit(self, key: str, limit: Limit, algorithm: Algorithm, now: float) -> Decision | None: ...
    async def aclose(self) -> None: ...


class MemoryRateLimitBackend:
    """Counters in this process, for at most ``max_keys`` clients (the least recently seen are forgotten).

    The bound keeps memory flat when many addresses appear (a scan, a spoofing attempt): forgetting a
    client only gives it a fresh quota, and the clients being limited right now are the recent ones.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ConfigurationError(f"MemoryRateLimitBackend(max_keys={max_keys}): keep at least 1 key.")
        self.max_keys = max_keys
        self._state: OrderedDict[str, tuple[float, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._state)

    async def hit(self, key: str, limit: Limit, algorithm: Algorithm, now: float) -> Decision:
        key = f"{key}:{algorithm}"
        state = self._state.get(key)
        if algorithm == "fixed-window":
            decision, state = self._fixed(limit, now, state)
        elif algorithm == "sliding-window":
            decision, state = self._sliding(limit, now, state)
        else:
            decision, state = self._bucket(limit, now, state)
        self._state[key] = state
        self._state.move_to_end(key)
        while len(self._state) > self.max_keys:
            self._state.popitem(last=False)
        return decision

    @staticmethod
    def _fixed(limit: Limit, now: float, state: tuple[float, ...] | None) -> tuple[Decision, tuple[float, ...]]:
        index, _ = window(limit, now)
        count = int(state[1]) + 1 if state is not None and state[0] == index else 1
        return fixed_decision(limit, now, count), (index, count)

    @staticmethod
    def _sliding(limit: Limit, now: float, state: tuple[float, ...] | None) -> tuple[Decision, tuple[float, ...]]:
        index, _ = window(limit, now)
        current = previous = 0
        if state is not None and state[0] == index:
            current, previous = int(state[1]), int(state[2])
        elif state is not None and state[0] == index - 1:
            previous = int(state[1])
        allowed = sliding_allows(limit, now, current, previous)
        current += allowed
        return sliding_decision(limit, now, allowed, current, previous), (index, current, previous)

    @staticmethod
    def _bucket(limit: Limit, now: float, state: tuple[float, ...] | None) -> tuple[Decision, tuple[float, ...]]:
        tokens = float(limit.amount) if state is None else refill(limit, state[0], state[1], now)
        allowed = tokens >= 1 - EPSILON  # float refills (0.95 + 0.05) must still make a whole token
        tokens -= allowed
        return bucket_decision(limit, allowed, tokens), (tokens, now)

    async def aclose(self) -> None:
        self._state.clear()

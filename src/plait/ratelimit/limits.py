"""Limits, decisions and the arithmetic of the three algorithms, shared by every backend.

* ``fixed-window``: at most ``amount`` requests in each window of ``period`` seconds aligned on the
  clock (12:00:00-12:00:59, ...). Cheapest; a client can send ``2 * amount`` across a boundary.
* ``sliding-window`` (the default): the two-window approximation of a sliding log. The count of the
  previous window is weighted by how much of it still overlaps the last ``period`` seconds, so a
  burst at a boundary is still limited, with one counter per window instead of one entry per request.
* ``token-bucket``: a bucket of ``amount`` tokens refilled at ``amount / period`` per second; each
  request takes one. Allows bursts up to ``amount`` while holding the average rate.

>>> Limit.parse("10/minute")
Limit(amount=10, period=60.0)
>>> Limit.parse("100 per 5 minutes").period
300.0
"""

from __future__ import annotations

import math
import re
from typing import Literal

import msgspec

from plait.exceptions import ConfigurationError

Algorithm = Literal["fixed-window", "sliding-window", "token-bucket"]
ALGORITHMS: tuple[Algorithm, ...] = ("fixed-window", "sliding-window", "token-bucket")
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
_UNITS["d"] = _UNITS["day"] = 86400.0
_SPEC = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*([a-z]+?)s?\s*$")


class Limit(msgspec.Struct, frozen=True):
    """``amount`` requests per ``period`` seconds."""

    amount: int
    period: float

    def __post_init__(self) -> None:
        if self.amount < 1 or not self.period > 0:
            raise ConfigurationError(
                f"A rate limit needs at least 1 request per a positive period, not {self.amount} per {self.period}s."
            )

    @classmethod
    def parse(cls, spec: str | Limit) -> Limit:
        """``"10/minute"``, ``"5/second"``, ``"1000/day"``, ``"100 per 5 minutes"``, ``"20/30s"``."""
        if isinstance(spec, Limit):
            return spec
        match = _SPEC.match(spec.lower())
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None:
            raise ConfigurationError(
                f"Cannot read the rate limit {spec!r}; write it as '10/minute', '5/second', '1000/day', "
                "'100 per 5 minutes' or '20/30s'."
            )
        return cls(int(match.group(1)), float(match.group(2) or 1) * unit)

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: ``10;w=60``."""
        return f"{self.amount};w={_seconds(self.period)}"


class Decision(msgspec.Struct, frozen=True):
    """The outcome of one request against one limit; times are in seconds from now."""

    allowed: bool
    limit: Limit
    remaining: int
    reset_after: float
    """Until the quota is fully available again (the end of the window; a full bucket)."""
    retry_after: float
    """Until a request would be allowed (0 when this one was)."""


def window(limit: Limit, now: float) -> tuple[int, float]:
    """The index of the window ``now`` falls in, and the seconds left in it."""
    index = math.floor(now / limit.period)
    return index, (index + 1) * limit.period - now


def fixed_decision(limit: Limit, now: float, count: int) -> Decision:
    """Fixed window: ``count`` requests (this one included) in the current window."""
    _, left = window(limit, now)
    allowed = count <= limit.amount
    return Decision(allowed, limit, max(0, limit.amount - count), left, 0.0 if allowed else left)


def sliding_weight(limit: Limit, now: float) -> float:
    """How much of the previous window still lies within the last ``period`` seconds (1 at a boundary, then less)."""
    _, left = window(limit, now)
    return left / limit.period


def sliding_allows(limit: Limit, now: float, current: int, previous: int) -> bool:
    """Whether one more request fits: weighted previous count + current count + 1 <= amount."""
    return previous * sliding_weight(limit, now) + current + 1 <= limit.amount


def sliding_decision(limit: Limit, now: float, allowed: bool, current: int, previous: int) -> Decision:
    """Sliding window: ``current`` (this request included when allowed) and ``previous`` window counts."""
    _, left = window(limit, now)
    estimate = previous * sliding_weight(limit, now) + current
    remaining = max(0, math.floor(limit.amount - estimate + 1e-9))
    return Decision(allowed, limit, remaining, left, 0.0 if allowed else _sliding_wait(limit, left, current, previous))


def _sliding_wait(limit: Limit, left: float, current: int, previous: int) -> float:
    """Seconds until ``previous * weight + current + 1 <= amount`` holds again."""
    room = limit.amount - 1 - current
    if room >= 0:  # fits in this window once enough of the previous one has slid out
        return max(0.0, left - limit.period * room / previous)
    # Not before the next window, where the current count becomes the weighted previous one.
    return left + max(0.0, limit.period - limit.period * (limit.amount - 1) / current)


def refill(limit: Limit, tokens: float, last: float, now: float) -> float:
    """Token bucket: the tokens after refilling since ``last`` (capped at ``amount``)."""
    return min(float(limit.amount), tokens + max(0.0, now - last) * limit.amount / limit.period)


def bucket_decision(limit: Limit, allowed: bool, tokens: float) -> Decision:
    """Token bucket: ``tokens`` left after this request (taken when allowed)."""
    rate = limit.amount / limit.period
    reset = (limit.amount - tokens) / rate
    return Decision(allowed, limit, math.floor(tokens + 1e-9), reset, 0.0 if allowed else (1 - tokens) / rate)


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"

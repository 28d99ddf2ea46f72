"""Rate limiting: per route, router or app, on client address, user, API key or your own key.

::

    from plait import Plait
    from plait.ratelimit import RateLimiter, rate_limit

    app = Plait(extensions=[RateLimiter()])   # PLAIT_RATELIMIT_URL=redis://127.0.0.1:6379/0 across workers

    @app.post("/login", dependencies=[rate_limit("5/minute")])
    async def login() -> dict[str, bool]: ...

Fixed window, sliding window (default) or token bucket; counters in memory or, atomically across
workers, in Redis. Over the limit: ``429`` with ``Retry-After``; every limited response carries
``RateLimit-Limit``, ``-Remaining``, ``-Reset`` and ``-Policy`` (draft-ietf-httpapi-ratelimit-headers-06).
Redis down: requests pass (or get 503 with ``fail_open=False``), one warning per interval.
"""

from plait.ratelimit.backends import MemoryRateLimitBackend, RateLimitBackend
from plait.ratelimit.dependency import RateLimit, headers_for, rate_limit
from plait.ratelimit.extension import RateLimiter, RateLimitSettings
from plait.ratelimit.keys import api_key_or_ip, client_ip, user_or_ip
from plait.ratelimit.limits import Decision, Limit
from plait.ratelimit.redis import RedisRateLimitBackend

__all__ = [
    "Decision",
    "Limit",
    "MemoryRateLimitBackend",
    "RateLimit",
    "RateLimitBackend",
    "RateLimitSettings",
    "RateLimiter",
    "RedisRateLimitBackend",
    "api_key_or_ip",
    "client_ip",
    "headers_for",
    "rate_limit",
    "user_or_ip",
]

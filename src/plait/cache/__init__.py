"""The cache battery: a key-value cache for handlers, and response caching for routes.

::

    from plait import Plait
    from plait.cache import Cache, CacheClient, cache_response

    app = Plait(extensions=[Cache()])        # PLAIT_CACHE_URL=redis://127.0.0.1:6379/0 for Redis

    @app.get("/stats")
    async def stats(cache: CacheClient) -> dict[str, int]:
        return await cache.get_or_set("stats", compute_stats, ttl=60)

    @app.get("/articles")
    @cache_response(ttl=60, vary=("Accept-Language",))
    async def articles() -> list[str]: ...

The in-memory backend is a bounded LRU for one process; :class:`RedisBackend` is shared by every
worker. When Redis is down, reads are misses and writes are dropped (one warning per interval)
and the app keeps serving; it recovers by itself. Redis needs ``pip install 'plait[redis]'``.
"""

from plait.cache.backends import CacheBackend, MemoryBackend
from plait.cache.client import DEFAULT_TTL, CacheClient
from plait.cache.extension import Cache, CacheSettings
from plait.cache.redis import RedisBackend
from plait.cache.responses import cache_response, etag

__all__ = [
    "DEFAULT_TTL",
    "Cache",
    "CacheBackend",
    "CacheClient",
    "CacheSettings",
    "MemoryBackend",
    "RedisBackend",
    "cache_response",
    "etag",
]

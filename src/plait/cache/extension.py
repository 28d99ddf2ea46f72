"""``Cache``: the extension that gives handlers a :class:`~plait.cache.CacheClient` and caches marked routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from plait.cache.backends import CacheBackend, MemoryBackend
from plait.cache.client import CacheClient
from plait.cache.redis import RedisBackend
from plait.cache.responses import CachedRoute, policy_of
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.routing.router import WEBSOCKET

if TYPE_CHECKING:
    from plait._types import ASGIApp
    from plait.app import CompiledRoute, Plait


class CacheSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The cache's settings, from ``PLAIT_CACHE_*`` variables.

    >>> CacheSettings().cache_prefix
    'plait:cache:'
    """

    cache_url: str = ""
    """``redis://host:6379/0`` (or ``rediss://``) for Redis; empty or ``memory://``: a store in this process."""
    cache_prefix: str = "plait:cache:"
    """Put before every key; give each app sharing one Redis its own."""
    cache_version: Annotated[int, msgspec.Meta(ge=0)] = 1
    """Part of every key: bump it when cached values change shape, and old entries are ignored."""
    cache_default_ttl: Annotated[float, msgspec.Meta(ge=0)] = 300.0
    """Seconds an entry lives when ``set`` is given no ``ttl``; 0: no expiry."""
    cache_max_entries: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    """The in-memory store's bound (least recently used entries are evicted beyond it)."""
    cache_timeout: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    """Seconds to wait for Redis (connecting or answering) before counting it as down."""
    cache_warn_interval: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """While Redis is down, at most one warning per this many seconds."""


class Cache(Extension):
    """A cache for the app's life: ``cache: CacheClient`` in a handler, and :func:`cache_response` routes.

    >>> from plait import Plait
    >>> app = Plait()
    >>> cache = app.install(Cache())          # PLAIT_CACHE_URL=redis://... switches to Redis
    >>> _ = app.build()
    >>> type(cache.client.backend).__name__
    'MemoryBackend'

    ``backend`` (a :class:`~plait.cache.CacheBackend` or a URL) wins over ``PLAIT_CACHE_URL``;
    ``prefix`` and ``version`` over their settings.
    """

    name = "cache"
    settings_type = CacheSettings
    settings: CacheSettings

    def __init__(
        self,
        backend: CacheBackend | str | None = None,
        *,
        prefix: str | None = None,
        version: int | None = None,
        settings: CacheSettings | None = None,
    ) -> None:
        if backend is not None and not isinstance(backend, str | CacheBackend):
            raise ConfigurationError(
                f"Cache(backend={backend!r}): pass a URL ('redis://127.0.0.1:6379/0') or a backend such as "
                "MemoryBackend() or RedisBackend(url)."
            )
        self._backend = backend
        self._given = settings
        self._overrides: dict[str, Any] = {}
        if prefix is not None:
            self._overrides["cache_prefix"] = prefix
        if version is not None:
            self._overrides["cache_version"] = version
        self._client: CacheClient | None = None

    def load_settings(self) -> CacheSettings:
        settings: CacheSettings = self.settings_with(self._given, self._overrides)
        return settings

    def setup(self, app: Plait[Any]) -> None:
        settings = self.settings
        backend = self._backend if self._backend is not None else settings.cache_url
        if isinstance(backend, str):
            backend = self._backend_for(backend)
        ttl = settings.cache_default_ttl or None
        self._client = CacheClient(
            backend, prefix=settings.cache_prefix, version=settings.cache_version, default_ttl=ttl
        )

    def _backend_for(self, url: str) -> CacheBackend:
        settings = self.settings
        if url in ("", "memory://"):
            return MemoryBackend(settings.cache_max_entries)
        if url.startswith(("redis://", "rediss://", "unix://")):
            return RedisBackend(url, timeout=settings.cache_timeout, warn_interval=settings.cache_warn_interval)
        raise ConfigurationError(
            f"PLAIT_CACHE_URL={url!r} is not a cache URL Plait knows; use redis://host:6379/0 for Redis, "
            "or leave it empty for the in-memory cache."
        )

    @property
    def client(self) -> CacheClient:
        """The cache (made at startup): ``await app.extensions["cache"].client.get("key")`` outside handlers."""
        if self._client is None:
            raise ConfigurationError(
                "The cache is made when the app starts; use it inside a request, `async with app.running():` "
                "or a TestClient block."
            )
        return self._client

    def _client_value(self) -> CacheClient:
        return self.client

    def providers(self) -> Mapping[Any, Depends]:
        return {CacheClient: Depends(self._client_value)}

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self._client is not None:
                await self._client.backend.aclose()

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        policy = policy_of(route.placed.route.endpoint)
        if policy is None:
            return endpoint  # PERF: routes that are not cached are served unwrapped
        methods = route.placed.route.methods
        if WEBSOCKET in methods or "GET" not in methods:
            raise ConfigurationError(
                f"{route.placed.path}: @cache_response and @etag apply to GET routes (HEAD follows GET); "
                "remove the decorator from this route."
            )
        return CachedRoute(endpoint, policy, self.client)

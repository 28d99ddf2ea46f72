"""``RateLimiter``: the extension that gives every ``RateLimit`` of the app one backend and its settings."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from plait.di.plan import CallPlan
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.ratelimit.backends import MemoryRateLimitBackend, RateLimitBackend
from plait.ratelimit.dependency import RateLimit
from plait.ratelimit.redis import RedisRateLimitBackend

if TYPE_CHECKING:
    from plait._types import ASGIApp
    from plait.app import CompiledRoute, Plait


class RateLimitSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The rate limiter's settings, from ``PLAIT_RATELIMIT_*`` variables.

    >>> RateLimitSettings().ratelimit_fail_open
    True
    """

    ratelimit_url: str = ""
    """``redis://host:6379/0`` to share counters between workers; empty or ``memory://``: this process only."""
    ratelimit_prefix: str = "plait:ratelimit:"
    """Put before every counter's key."""
    ratelimit_fail_open: bool = True
    """While Redis is down, let requests through (True) or refuse them with 503 (False)."""
    ratelimit_timeout: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    """Seconds to wait for Redis before counting it as down."""
    ratelimit_warn_interval: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """While Redis is down, at most one warning per this many seconds."""
    ratelimit_max_keys: Annotated[int, msgspec.Meta(ge=1)] = 100_000
    """The in-memory backend's bound on clients remembered."""


class RateLimiter(Extension):
    """One backend for every ``RateLimit`` in the app's routes, routers and app dependencies.

    >>> from plait import Plait
    >>> from plait.ratelimit import rate_limit
    >>> app = Plait(dependencies=[rate_limit("100/minute")])
    >>> limiter = app.install(RateLimiter())      # PLAIT_RATELIMIT_URL=redis://... for several workers
    >>> _ = app.build()
    >>> type(limiter.backend).__name__
    'MemoryRateLimitBackend'

    Without this extension each ``RateLimit`` counts in its own process memory. ``clock`` (seconds)
    replaces ``time.time`` in tests.
    """

    name = "ratelimit"
    settings_type = RateLimitSettings
    settings: RateLimitSettings

    def __init__(
        self,
        backend: RateLimitBackend | str | None = None,
        *,
        fail_open: bool | None = None,
        prefix: str | None = None,
        clock: Callable[[], float] = time.time,
        settings: RateLimitSettings | None = None,
    ) -> None:
        if backend is not None and not isinstance(backend, str | RateLimitBackend):
            raise ConfigurationError(
                f"RateLimiter(backend={backend!r}): pass a URL ('redis://127.0.0.1:6379/0') or a backend such as "
                "MemoryRateLimitBackend() or RedisRateLimitBackend(url)."
            )
        self._given_backend = backend
        self._given = settings
        self._overrides: dict[str, Any] = {}
        if fail_open is not None:
            self._overrides["ratelimit_fail_open"] = fail_open
        if prefix is not None:
            self._overrides["ratelimit_prefix"] = prefix
        self.clock = clock
        self._backend: RateLimitBackend | None = None
        self.limits: list[RateLimit] = []
        """Every ``RateLimit`` found in the app's routes at startup."""

    def load_settings(self) -> RateLimitSettings:
        settings: RateLimitSettings = self.settings_with(self._given, self._overrides)
        return settings

    def setup(self, app: Plait[Any]) -> None:
        backend = self._given_backend if self._given_backend is not None else self.settings.ratelimit_url
        self._backend = self._backend_for(backend) if isinstance(backend, str) else backend

    def _backend_for(self, url: str) -> RateLimitBackend:
        settings = self.settings
        if url in ("", "memory://"):
            return MemoryRateLimitBackend(settings.ratelimit_max_keys)
        if url.startswith(("redis://", "rediss://", "unix://")):
            return RedisRateLimitBackend(
                url, timeout=settings.ratelimit_timeout, warn_interval=settings.ratelimit_warn_interval
            )
        raise ConfigurationError(
            f"PLAIT_RATELIMIT_URL={url!r} is not a URL Plait knows; use redis://host:6379/0 for Redis, "
            "or leave it empty to count in memory."
        )

    @property
    def backend(self) -> RateLimitBackend:
        """The backend every bound ``RateLimit`` uses (made at startup)."""
        if self._backend is None:
            raise ConfigurationError("The rate limiter's backend is made when the app starts (app.build()).")
        return self._backend

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        # Nothing wraps the route: the limits are dependencies. Startup is just where they are all seen.
        for plan in (route.plan, *route.guards):
            for limit in _limits(plan):
                if limit not in self.limits:
                    limit.bind(self)
                    self.limits.append(limit)
        return endpoint

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self._backend is not None:
                await self._backend.aclose()


def _limits(plan: CallPlan) -> Iterator[RateLimit]:
    if isinstance(plan.fn, RateLimit):
        yield plan.fn
    for dependency in plan.dependencies:
        yield from _limits(dependency.plan)

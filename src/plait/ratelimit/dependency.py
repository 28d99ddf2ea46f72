"""``RateLimit``: a dependency that counts each request and refuses it with 429 beyond the limit.

As a dependency it goes wherever dependencies go, so a limit applies to one route, to a router
(each of its routes) or to the whole app::

    @app.post("/login", dependencies=[rate_limit("5/minute")])
    api = Router(prefix="/api", dependencies=[rate_limit("1000/hour", key="api_key")])
    app = Plait(dependencies=[rate_limit("100/minute")])

One ``RateLimit`` object is one counter per client: the same object on several routes shares it
(an app-wide quota), two objects count separately. A refused request gets a ``429 Too Many Requests``
problem response with ``Retry-After``. Every response of a limited route carries the fields of the
IETF draft *RateLimit header fields for HTTP*, ``draft-ietf-httpapi-ratelimit-headers-06``:
``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds) and ``RateLimit-Policy``
(``10;w=60``); when several limits apply, the one with the fewest requests left is reported.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.ratelimit.backends import MemoryRateLimitBackend, RateLimitBackend
from plait.ratelimit.keys import NAMED_KEYS, KeyFunc
from plait.ratelimit.limits import ALGORITHMS, Algorithm, Decision, Limit
from plait.requests import Request
from plait.responses import Response

if TYPE_CHECKING:
    from plait.ratelimit.extension import RateLimiter

SCOPE_KEY = "plait.ratelimit"
"""The decision reported in the response headers so far, in the request's scope."""

_HEADER_DOCS = {
    "RateLimit-Limit": "Requests allowed in the window.",
    "RateLimit-Remaining": "Requests left in the current window.",
    "RateLimit-Reset": "Seconds until the quota is available again.",
    "RateLimit-Policy": "The quota and its window in seconds, e.g. 10;w=60.",
}


def _openapi() -> dict[str, Any]:
    headers = {name: {"description": text, "schema": {"type": "string"}} for name, text in _HEADER_DOCS.items()}
    headers["Retry-After"] = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
    return {
        "responses": {
            "429": {
                # Not this limit's numbers: an operation under several limits (the app's, its router's, its
                # own) is documented by whichever comes first, so the text must hold for all of them.
                "description": "Too many requests: a rate limit of this operation was reached. RateLimit-Policy "
                "gives the quota and its window, Retry-After the seconds to wait.",
                "headers": headers,
                # No "content": the document then gives the 429 the problem-details schema every error shares.
            }
        }
    }


def headers_for(decision: Decision) -> dict[str, str]:
    """The ``RateLimit-*`` fields (draft 06) describing ``decision``.

    >>> headers_for(Decision(True, Limit(10, 60.0), 7, 42.5, 0.0))
    {'RateLimit-Limit': '10', 'RateLimit-Remaining': '7', 'RateLimit-Reset': '43', 'RateLimit-Policy': '10;w=60'}
    """
    return {
        "RateLimit-Limit": str(decision.limit.amount),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(math.ceil(decision.reset_after)),
        "RateLimit-Policy": decision.limit.policy,
    }


def _call_site() -> str:
    """Where the ``RateLimit`` was made (``module:line``): the same in every worker running the same code."""
    frame = sys._getframe(1)
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("plait.ratelimit"):
        frame = frame.f_back
    return f"{frame.f_globals.get('__name__', '?')}:{frame.f_lineno}"


class RateLimit:
    """Count each request against ``limit`` per key; refuse with 429 beyond it (see the module notes).

    >>> limit = RateLimit("5/minute", key="user", algorithm="token-bucket", name="login")
    >>> limit.limit, limit.name
    (Limit(amount=5, period=60.0), 'login')

    ``key``: ``"ip"`` (default), ``"user"``, ``"api_key"`` or a function of the request (see
    :mod:`plait.ratelimit.keys`). ``name`` (default: where this object is made) keeps counters apart;
    give one when the code that makes limits moves, or is shared (a factory). ``backend``, ``fail_open``
    and ``clock`` default to the ``RateLimiter`` extension's (else memory, open, ``time.time``).
    """

    def __init__(
        self,
        limit: str | Limit,
        *,
        key: str | KeyFunc = "ip",
        algorithm: Algorithm = "sliding-window",
        name: str | None = None,
        backend: RateLimitBackend | None = None,
        fail_open: bool | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.limit = Limit.parse(limit)
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(f"RateLimit(algorithm={algorithm!r}): choose one of {', '.join(ALGORITHMS)}.")
        if isinstance(key, str):
            if key not in NAMED_KEYS:
                raise ConfigurationError(
                    f"RateLimit(key={key!r}): use 'ip', 'user', 'api_key' or a function taking the request."
                )
            key = NAMED_KEYS[key]
        self.key = key
        self.algorithm: Algorithm = algorithm
        self.name = name if name is not None else _call_site()
        self._backend = backend
        self._fail_open = fail_open
        self._clock = clock
        self._limiter: RateLimiter | None = None
        self._fallback: MemoryRateLimitBackend | None = None
        self.__plait_openapi__ = _openapi()

    def __repr__(self) -> str:
        return f"RateLimit({self.limit.amount}/{self.limit.period:g}s, {self.algorithm}, name={self.name!r})"

    def bind(self, limiter: RateLimiter) -> None:
        """Use ``limiter``'s backend and defaults (the extension calls this at startup)."""
        self._limiter = limiter

    @property
    def backend(self) -> RateLimitBackend:
        """The backend in use: the one given, else the extension's, else one in this process."""
        if self._backend is not None:
            return self._backend
        if self._limiter is not None:
            return self._limiter.backend
        if self._fallback is None:
            self._fallback = MemoryRateLimitBackend()
        return self._fallback

    def _now(self) -> float:
        clock = self._clock or (self._limiter.clock if self._limiter is not None else time.time)
        return clock()

    def _fails_open(self) -> bool:
        if self._fail_open is not None:
            return self._fail_open
        return self._limiter.settings.ratelimit_fail_open if self._limiter is not None else True

    def counter_key(self, identity: str) -> str:
        """The backend key for ``identity``: the prefix, this limit's name and spec, then the identity."""
        prefix = self._limiter.settings.ratelimit_prefix if self._limiter is not None else "plait:ratelimit:"
        return f"{prefix}{self.name}:{self.limit.amount}/{self.limit.period:g}:{identity}"

    async def __call__(self, request: Request, response: Response) -> None:
        identity = self.key(request)
        if inspect.isawaitable(identity):
            identity = await identity
        if identity is None:
            return  # the key function exempted this request
        decision = await self.backend.hit(self.counter_key(identity), self.limit, self.algorithm, self._now())
        if decision is None:  # the backend is down (it has logged a warning)
            if self._fails_open():
                return
            raise HTTPException(
                503, "Rate limiting is unavailable, so the request was refused; retry shortly.", {"Retry-After": "1"}
            )
        if not decision.allowed:
            wait = max(1, math.ceil(decision.retry_after))
            raise HTTPException(
                429,
                f"Too many requests: the limit is {self.limit.amount} per {self.limit.policy.split('=')[1]} "
                f"seconds; retry in {wait} seconds.",
                {"Retry-After": str(wait), **headers_for(decision)},
            )
        reported: Decision | None = request.scope.get(SCOPE_KEY)
        if reported is None or decision.remaining < reported.remaining:
            request.scope[SCOPE_KEY] = decision
            for name, value in headers_for(decision).items():
                response.headers[name] = value


def rate_limit(
    limit: str | Limit,
    *,
    key: str | KeyFunc = "ip",
    algorithm: Algorithm = "sliding-window",
    name: str | None = None,
    backend: RateLimitBackend | None = None,
    fail_open: bool | None = None,
) -> Depends:
    """``Depends(RateLimit(...))``, ready for ``dependencies=[...]`` of a route, a router or the app.

    >>> rate_limit("10/second").dependency.limit
    Limit(amount=10, period=1.0)
    """
    return Depends(RateLimit(limit, key=key, algorithm=algorithm, name=name, backend=backend, fail_open=fail_open))

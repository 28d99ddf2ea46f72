"""RateLimit as a dependency of routes, routers and apps: headers, 429s, keys, OpenAPI, outages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from plait import Depends, Plait, Request, Router
from plait.exceptions import ConfigurationError
from plait.middleware import Middleware, ProxyHeadersMiddleware
from plait.ratelimit import (
    Decision,
    Limit,
    MemoryRateLimitBackend,
    RateLimit,
    RateLimiter,
    RateLimitSettings,
    RedisRateLimitBackend,
    api_key_or_ip,
    rate_limit,
)
from plait.ratelimit.limits import Algorithm
from plait.testing import TestClient


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limited_app(
    *dependencies: Depends, clock: Clock | None = None, **options: Any
) -> tuple[Plait, Callable[[], TestClient]]:
    app = Plait(extensions=[RateLimiter(clock=clock or Clock(), **options)])

    @app.get("/limited", dependencies=list(dependencies))
    def limited() -> dict[str, bool]:
        return {"ok": True}

    return app, lambda: TestClient(app)


def test_responses_carry_ratelimit_headers_and_the_excess_gets_a_429() -> None:
    clock = Clock(1000.0)  # 40 s into a one-minute window
    _, make = limited_app(rate_limit("2/minute", algorithm="fixed-window"), clock=clock)
    with make() as client:
        first, second, third = client.get("/limited"), client.get("/limited"), client.get("/limited")
        clock.now = 1020.0  # the next window
        fourth = client.get("/limited")
    assert [r.status_code for r in (first, second, third, fourth)] == [200, 200, 429, 200]
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert first.headers["RateLimit-Reset"] == "20"
    assert first.headers["RateLimit-Policy"] == "2;w=60"
    assert second.headers["RateLimit-Remaining"] == "0"
    assert third.headers["Retry-After"] == "20"
    assert third.headers["RateLimit-Remaining"] == "0"
    assert third.headers["content-type"] == "application/problem+json"
    problem = third.json()
    assert problem["status"] == 429
    assert "2 per 60 seconds" in problem["detail"]
    assert fourth.headers["RateLimit-Remaining"] == "1"


def test_a_router_limit_and_an_app_limit() -> None:
    clock = Clock()
    app = Plait(dependencies=[rate_limit("3/minute", name="app")], extensions=[RateLimiter(clock=clock)])
    api = Router(prefix="/api", dependencies=[rate_limit("1/minute", name="api")])

    @api.get("/a")
    def a() -> str:
        return "a"

    @api.get("/b")
    def b() -> str:
        return "b"

    @app.get("/home")
    def home() -> str:
        return "home"

    app.include_router(api)
    with TestClient(app) as client:
        a_response = client.get("/api/a")
        # Both limits apply: the headers report the one with the fewest requests left (the router's).
        assert a_response.headers["RateLimit-Limit"] == "1"
        assert a_response.headers["RateLimit-Remaining"] == "0"
        assert client.get("/api/b").status_code == 429  # the router's counter is shared by its routes
        assert client.get("/home").headers["RateLimit-Remaining"] == "0"  # the app's third (429s count too)
        assert client.get("/home").status_code == 429


def test_two_limits_report_the_tighter_whatever_their_order() -> None:
    loose, tight = rate_limit("10/minute", name="loose"), rate_limit("2/minute", name="tight")
    for order in ((loose, tight), (tight, loose)):
        _, make = limited_app(*order)
        with make() as client:
            assert client.get("/limited").headers["RateLimit-Limit"] == "2"


def test_client_addresses_come_from_trusted_proxies_only() -> None:
    def build(trusted: list[str]) -> TestClient:
        app = Plait(
            middleware=[Middleware(ProxyHeadersMiddleware, trusted_proxies=trusted)],
            extensions=[RateLimiter(clock=Clock())],
        )

        @app.get("/", dependencies=[rate_limit("1/minute")])
        def index() -> str:
            return "ok"

        return TestClient(app)

    with build(["*"]) as trusting:
        assert trusting.get("/", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
        assert trusting.get("/", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200
        assert trusting.get("/", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    with build(["10.0.0.1"]) as wary:
        # The peer is not a trusted proxy, so a forged header cannot buy a fresh quota.
        assert wary.get("/", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
        assert wary.get("/", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429


def test_user_keys_fall_back_to_the_address() -> None:
    class User:
        def __init__(self, id: int) -> None:
            self.id = id

    def who(request: Request) -> None:
        name = request.headers.get("x-user")
        if name:
            request.scope["plait.user"] = User(int(name))

    _, make = limited_app(Depends(who), rate_limit("1/minute", key="user"))
    with make() as client:
        assert client.get("/limited", headers={"X-User": "1"}).status_code == 200
        assert client.get("/limited", headers={"X-User": "2"}).status_code == 200
        assert client.get("/limited", headers={"X-User": "1"}).status_code == 429
        assert client.get("/limited").status_code == 200  # anonymous: by address
        assert client.get("/limited").status_code == 429


def test_api_key_and_custom_keys() -> None:
    _, make = limited_app(rate_limit("1/minute", key="api_key"), rate_limit("1/minute", key=api_key_or_ip("X-Token")))
    with make() as client:
        assert client.get("/limited", headers={"X-API-Key": "k1", "X-Token": "t1"}).status_code == 200
        assert client.get("/limited", headers={"X-API-Key": "k2", "X-Token": "t2"}).status_code == 200
        assert client.get("/limited", headers={"X-API-Key": "k1", "X-Token": "t3"}).status_code == 429

    async def tenant(request: Request) -> str | None:
        # None leaves a request unlimited: here, internal health checks.
        return None if request.headers.get("x-internal") else request.headers.get("x-tenant", "none")

    _, make = limited_app(rate_limit("1/minute", key=tenant))
    with make() as client:
        assert client.get("/limited", headers={"X-Tenant": "a"}).status_code == 200
        assert client.get("/limited", headers={"X-Tenant": "a"}).status_code == 429
        assert client.get("/limited", headers={"X-Tenant": "b"}).status_code == 200
        internal = client.get("/limited", headers={"X-Internal": "1"})
        assert internal.status_code == 200
        assert "ratelimit-limit" not in internal.headers


class Down:
    async def hit(self, key: str, limit: Limit, algorithm: Algorithm, now: float) -> Decision | None:
        return None

    async def aclose(self) -> None:
        pass


def test_an_unavailable_backend_fails_open_or_closed() -> None:
    _, make = limited_app(rate_limit("1/minute"), backend=Down())
    with make() as client:
        passed = client.get("/limited")
    assert passed.status_code == 200
    assert "ratelimit-limit" not in passed.headers
    _, make = limited_app(rate_limit("1/minute"), backend=Down(), fail_open=False)
    with make() as client:
        refused = client.get("/limited")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    _, make = limited_app(rate_limit("1/minute", fail_open=False), backend=Down())
    with make() as client:
        assert client.get("/limited").status_code == 503


def test_a_limit_without_the_extension_counts_in_memory() -> None:
    app = Plait()
    limit = RateLimit("1/minute", clock=Clock())

    @app.get("/", dependencies=[Depends(limit)])
    def index() -> str:
        return "ok"

    with TestClient(app) as client:
        assert [client.get("/").status_code for _ in range(2)] == [200, 429]
    assert isinstance(limit.backend, MemoryRateLimitBackend)
    assert limit.counter_key("ip:1").startswith(f"plait:ratelimit:{__name__}:")


def test_the_extension_binds_every_limit_once_and_closes_its_backend() -> None:
    own = MemoryRateLimitBackend()
    shared = RateLimit("5/minute", name="shared")
    private = RateLimit("5/minute", backend=own, name="own")
    backend = MemoryRateLimitBackend()
    app, make = limited_app(Depends(shared), Depends(private), Depends(shared), prefix="svc:", backend=backend)
    limiter = app.extensions["ratelimit"]
    with make() as client:
        client.get("/limited")
        assert limiter.limits == [shared, private]
        assert private.backend is own
        assert shared.backend is limiter.backend
        assert shared.counter_key("ip:x") == "svc:shared:5/60:ip:x"
        assert len(backend) == 1
    assert len(backend) == 0


def test_openapi_documents_the_429() -> None:
    app, _ = limited_app(rate_limit("10/minute"))
    # Every operation under a limit (its own, its router's) has the 429; an unlimited one does not.
    router = Router(prefix="/api", dependencies=[rate_limit("5/minute")])

    @router.get("/items")
    def items() -> list[int]:
        return []

    @app.get("/free")
    def free() -> int:
        return 1

    app.include_router(router)
    paths = app.openapi()["paths"]
    responses = paths["/limited"]["get"]["responses"]
    assert "rate limit" in responses["429"]["description"]
    assert "429" in paths["/api/items"]["get"]["responses"]
    assert "429" not in paths["/free"]["get"]["responses"]
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining"} <= responses["429"]["headers"].keys()
    # The body is documented as the problem details every Plait error is, not a bare object.
    assert responses["429"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_bad_declarations_name_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="choose one of"):
        RateLimit("1/minute", algorithm="leaky")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="'ip', 'user', 'api_key'"):
        RateLimit("1/minute", key="session")
    with pytest.raises(ConfigurationError, match="RedisRateLimitBackend"):
        RateLimiter(backend=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="when the app starts"):
        _ = RateLimiter().backend
    monkeypatch.setenv("PLAIT_RATELIMIT_URL", "memcached://x")
    with pytest.raises(ConfigurationError, match="redis://host:6379/0"):
        Plait(extensions=[RateLimiter()]).build()
    assert "sliding-window" in repr(RateLimit("3/2s"))


def test_settings_switch_to_redis() -> None:
    app = Plait()
    limiter = app.install(RateLimiter(settings=RateLimitSettings(ratelimit_url="redis://127.0.0.1:6379/0")))
    app.build()
    assert isinstance(limiter.backend, RedisRateLimitBackend)


def test_workers_sharing_redis_admit_exactly_the_limit(redis_url: str, redis_prefix: str) -> None:
    clock = Clock()
    apps = []
    for _ in range(3):  # three "workers": three apps, three Redis clients, one limit
        _app, make = limited_app(
            rate_limit("4/minute", name="login"), clock=clock, backend=redis_url, prefix=redis_prefix
        )
        apps.append(make)
    statuses = []
    with apps[0]() as one, apps[1]() as two, apps[2]() as three:
        for _ in range(3):
            statuses += [one.get("/limited").status_code, two.get("/limited").status_code]
            statuses.append(three.get("/limited").status_code)
    assert statuses.count(200) == 4
    assert statuses.count(429) == 5


def test_limits_nested_in_other_dependencies_are_bound_too() -> None:
    limit = RateLimit("1/minute", name="nested")

    def guard(_: Any = Depends(limit)) -> None:
        pass

    app, make = limited_app(Depends(guard))
    with make() as client:
        assert [client.get("/limited").status_code for _ in range(2)] == [200, 429]
    assert app.extensions["ratelimit"].limits == [limit]


def test_an_extension_that_never_started_closes_nothing() -> None:
    import anyio

    async def enter() -> None:
        async with RateLimiter().lifespan(Plait()):
            pass

    anyio.run(enter)

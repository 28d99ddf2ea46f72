"""The Cache extension: settings, backends chosen by URL, the handler provider, startup errors."""

from __future__ import annotations

import pytest

from plait import Plait
from plait.cache import Cache, CacheClient, CacheSettings, MemoryBackend, RedisBackend
from plait.exceptions import ConfigurationError
from plait.testing import TestClient


def test_handlers_get_the_client_by_annotation() -> None:
    app = Plait(extensions=[Cache(prefix="app:", version=3)])

    @app.get("/count")
    async def count(cache: CacheClient) -> dict[str, object]:
        return {"n": await cache.incr("n"), "key": cache.make_key("n")}

    with TestClient(app) as client:
        assert client.get("/count").json() == {"n": 1, "key": "app:3:n"}
        assert client.get("/count").json()["n"] == 2


def test_settings_choose_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_CACHE_URL", "redis://127.0.0.1:6379/5")
    monkeypatch.setenv("PLAIT_CACHE_DEFAULT_TTL", "0")
    app = Plait()
    cache = app.install(Cache())
    app.build()
    assert isinstance(cache.client.backend, RedisBackend)
    assert cache.client.default_ttl is None  # 0 means "no expiry"


def test_a_backend_or_settings_can_be_given() -> None:
    backend = MemoryBackend()
    app = Plait()
    cache = app.install(Cache(backend, settings=CacheSettings(cache_prefix="p:", cache_default_ttl=5)))
    app.build()
    assert cache.client.backend is backend
    assert (cache.client.prefix, cache.client.default_ttl) == ("p:", 5)


def test_bad_configuration_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="RedisBackend"):
        Cache(backend=42)  # type: ignore[arg-type]
    app = Plait(extensions=[Cache("memcached://x")])
    with pytest.raises(ConfigurationError, match="redis://host:6379/0"):
        app.build()
    with pytest.raises(ConfigurationError, match="when the app starts"):
        _ = Cache().client


def test_the_backend_is_closed_at_shutdown() -> None:
    backend = MemoryBackend()
    app = Plait(extensions=[Cache(backend)])

    @app.get("/")
    async def put(cache: CacheClient) -> None:
        await cache.set("k", 1)

    with TestClient(app) as client:
        client.get("/")
        assert len(backend) == 1
    assert len(backend) == 0


def test_an_app_that_never_started_closes_nothing() -> None:
    import anyio

    async def enter() -> None:
        async with Cache().lifespan(Plait()):
            pass

    anyio.run(enter)


def test_the_public_surface_is_pinned() -> None:
    import plait.cache

    assert sorted(plait.cache.__all__) == [
        "Cache", "CacheBackend", "CacheClient", "CacheSettings", "DEFAULT_TTL", "MemoryBackend", "RedisBackend",
        "cache_response", "etag",
    ]  # fmt: skip
    assert all(hasattr(plait.cache, name) for name in plait.cache.__all__)

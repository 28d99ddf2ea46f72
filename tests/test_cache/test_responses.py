"""Response caching through the Cache extension: what is stored, how it is keyed, ETags and 304s."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from plait import Depends, Plait, Request
from plait.cache import Cache, MemoryBackend, cache_response, etag
from plait.cache.responses import CachedRoute, ResponsePolicy, etag_matches, policy_of, storable, strong_etag
from plait.exceptions import ConfigurationError
from plait.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from plait.testing import TestClient

POLICY = ResponsePolicy(60.0)


def make_app(extension: Cache | None = None) -> tuple[Plait, list[str]]:
    app = Plait(extensions=[extension if extension is not None else Cache(MemoryBackend())])
    calls: list[str] = []

    @app.get("/page")
    @cache_response(ttl=60, vary=("Accept-Language",))
    def page(request: Request) -> dict[str, Any]:
        calls.append(request.url.path)
        return {"n": len(calls), "lang": request.headers.get("accept-language")}

    @app.get("/plain")
    def plain() -> dict[str, int]:
        calls.append("plain")
        return {"n": len(calls)}

    return app, calls


@pytest.fixture
def app_and_calls() -> tuple[Plait, list[str]]:
    return make_app()


@pytest.fixture
def client(app_and_calls: tuple[Plait, list[str]]) -> Iterator[TestClient]:
    with TestClient(app_and_calls[0]) as client:
        yield client


def test_a_cached_route_runs_once_per_key(client: TestClient, app_and_calls: tuple[Plait, list[str]]) -> None:
    calls = app_and_calls[1]
    first = client.get("/page?b=2&a=1")
    again = client.get("/page?a=1&b=2")  # the same parameters in another order: the same entry
    assert first.json() == again.json() == {"n": 1, "lang": None}
    assert "age" not in first.headers
    assert again.headers["age"] == "0"
    assert first.headers["etag"] == again.headers["etag"] == strong_etag(first.content).decode()
    assert client.get("/page?a=2").json()["n"] == 2
    assert client.get("/page?a=1", headers={"Accept-Language": "fr"}).json() == {"n": 3, "lang": "fr"}
    assert client.get("/page?a=1", headers={"Accept-Language": "fr"}).json()["n"] == 3
    assert client.head("/page?a=1&b=2").content == b""  # HEAD is answered from the GET entry
    # The declared Vary is announced, so browsers and proxies keep the language variants apart too.
    assert first.headers["vary"] == again.headers["vary"] == "accept-language"
    assert len(calls) == 3
    # Uncached routes are untouched: no ETag, every call runs.
    assert "etag" not in client.get("/plain").headers
    assert client.get("/plain").json()["n"] == 5


def test_if_none_match_gets_a_304(client: TestClient) -> None:
    tag = client.get("/page").headers["etag"]
    miss_then = client.get("/page?x=1", headers={"If-None-Match": '"other"'})
    assert miss_then.status_code == 200
    hit = client.get("/page", headers={"If-None-Match": f'W/"nope", {tag}'})
    assert hit.status_code == 304
    assert hit.content == b""
    assert hit.headers["etag"] == tag
    assert "content-type" not in hit.headers
    fresh = client.get("/page?y=1", headers={"If-None-Match": "*"})  # answered 304 on the first, uncached call
    assert fresh.status_code == 304


def test_credentials_bypass_the_cache(client: TestClient, app_and_calls: tuple[Plait, list[str]]) -> None:
    client.get("/page")
    # A request with credentials is about one caller: it neither reads nor fills the shared cache.
    assert client.get("/page", headers={"Authorization": "Bearer x"}).json()["n"] == 2
    assert client.get("/page", headers={"X-API-Key": "k"}).json()["n"] == 3
    assert client.get("/page").json()["n"] == 1


def build(handler: Any, **options: Any) -> tuple[TestClient, list[int]]:
    app = Plait(extensions=[Cache(MemoryBackend())])
    runs: list[int] = []

    def counted(*args: Any) -> Any:
        runs.append(1)
        return handler(*args)

    counted.__annotations__ = {"return": Response}
    app.get("/r", **options)(cache_response(ttl=60)(counted))
    return TestClient(app), runs


@pytest.mark.parametrize(
    "response",
    [
        lambda: _with_cookie(),
        lambda: JSONResponse({"a": 1}, status_code=404),
        lambda: JSONResponse({"a": 1}, headers={"Cache-Control": "private, max-age=60"}),
        lambda: JSONResponse({"a": 1}, headers={"Cache-Control": "no-store"}),
        lambda: JSONResponse({"a": 1}, headers={"Vary": "Cookie"}),
        lambda: JSONResponse({"a": 1}, headers={"Vary": "*"}),
        lambda: StreamingResponse(_chunks()),
        lambda: PlainTextResponse("x" * (2 << 20)),
    ],
    ids=["set-cookie", "404", "private", "no-store", "vary-cookie", "vary-star", "streaming", "too-big"],
)
def test_responses_that_are_never_stored(response: Any) -> None:
    client, runs = build(response)
    with client:
        first, second = client.get("/r"), client.get("/r")
    assert len(runs) == 2
    assert first.content == second.content


def _with_cookie() -> Response:
    response = JSONResponse({"a": 1})
    response.set_cookie("session", "secret")
    return response


async def _chunks() -> AsyncIterator[bytes]:
    yield b"a"
    yield b"b"


def test_a_streamed_response_is_passed_through_untouched() -> None:
    client, _ = build(lambda: StreamingResponse(_chunks()))
    with client:
        response = client.get("/r")
    assert response.content == b"ab"
    assert "etag" not in response.headers


def test_the_handlers_own_etag_is_kept_and_rate_limit_headers_are_not_replayed() -> None:
    def tagged() -> Response:
        return JSONResponse({"a": 1}, headers={"ETag": '"v1"', "RateLimit-Remaining": "4"})

    client, runs = build(tagged)
    with client:
        assert client.get("/r").headers["etag"] == '"v1"'
        replayed = client.get("/r")
        assert client.get("/r", headers={"If-None-Match": '"v1"'}).status_code == 304
    assert replayed.headers["etag"] == '"v1"'
    assert "ratelimit-remaining" not in replayed.headers
    assert len(runs) == 1


def test_only_get_and_head_use_the_cache() -> None:
    app = Plait(extensions=[Cache(MemoryBackend())])
    counter: list[int] = []

    @app.route("/both", methods=["GET", "POST"])
    @cache_response()
    def both() -> int:
        counter.append(1)
        return len(counter)

    with TestClient(app) as http:
        assert http.head("/both").status_code == 200  # a HEAD miss is served but not stored (it has no body)
        assert http.get("/both").json() == 2
        assert http.post("/both").json() == 3
        assert http.post("/both").json() == 4
        assert http.get("/both").json() == 2


def test_etag_alone_stores_nothing() -> None:
    app = Plait(extensions=[Cache(MemoryBackend())])
    count: list[int] = []

    @app.get("/e")
    @etag
    def tagged() -> str:
        count.append(1)
        return "same body"

    with TestClient(app) as http:
        tag = http.get("/e").headers["etag"]
        assert http.get("/e", headers={"If-None-Match": tag}).status_code == 304
        assert http.head("/e").headers.get("etag") is None  # no body to hash on HEAD
    assert len(count) == 3


def test_cache_response_refuses_bad_declarations() -> None:
    with pytest.raises(ConfigurationError, match=r"vary=\('Cookie',\)"):
        cache_response(vary="Cookie")
    with pytest.raises(ConfigurationError, match="positive number"):
        cache_response(ttl=0)
    app = Plait(extensions=[Cache(MemoryBackend())])

    @app.post("/p")
    @cache_response()
    def post() -> None: ...

    with pytest.raises(ConfigurationError, match="apply to GET routes"):
        app.build()


def test_policies_and_helpers() -> None:
    assert policy_of(lambda: None) is None
    assert not etag_matches('"a"', b'"b"')
    policy = policy_of(cache_response(vary=["Cookie"])(lambda: None))
    assert policy is not None
    assert storable(policy, 200, [(b"vary", b"Cookie")], b"")  # declared, so cached per session
    assert not storable(policy, 200, [(b"vary", b"Cookie, Origin")], b"")
    assert storable(policy, 200, [(b"cache-control", b"public, max-age=5")], b"")


@pytest.mark.anyio
async def test_trailers_and_unknown_messages_end_buffering() -> None:
    sent: list[dict[str, Any]] = []

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.trailers", "headers": []})

    async def record(message: Any) -> None:
        sent.append(message)

    route = CachedRoute(endpoint, POLICY, None)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await route(scope, None, record)  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.trailers"]

    sent.clear()

    async def early(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.debug"})  # before the start: passed on as is

    await CachedRoute(early, POLICY, None)(scope, None, record)  # type: ignore[arg-type]
    assert sent == [{"type": "http.response.debug"}]


def test_workers_share_responses_through_redis(redis_url: str, redis_prefix: str) -> None:
    from plait.cache import RedisBackend

    first_app, first_calls = make_app(Cache(RedisBackend(redis_url), prefix=redis_prefix))
    second_app, second_calls = make_app(Cache(RedisBackend(redis_url), prefix=redis_prefix))
    with TestClient(first_app) as one, TestClient(second_app) as two:
        assert one.get("/page").json()["n"] == 1
        assert two.get("/page").json()["n"] == 1  # the second "worker" answers from what the first stored
        assert second_calls == []
        assert first_calls == ["/page"]
    anyio.run(_clear, redis_url, redis_prefix)


async def _clear(redis_url: str, prefix: str) -> None:
    from plait.cache import CacheClient, RedisBackend

    backend = RedisBackend(redis_url)
    await CacheClient(backend, prefix=prefix).clear()
    await backend.aclose()


@pytest.mark.parametrize("cache_first", [True, False], ids=["cache-installed-first", "sessions-installed-first"])
def test_responses_that_read_the_session_are_not_shared(cache_first: bool) -> None:
    from plait.sessions import Sessions
    from plait.settings import Settings

    extensions = [Cache(MemoryBackend()), Sessions()]
    app = Plait(
        settings=Settings(secret_key="test-secret-key"), extensions=extensions if cache_first else extensions[::-1]
    )
    runs: list[str] = []

    @app.get("/mine")
    @cache_response()
    def mine(request: Request) -> str:
        runs.append("mine")
        # Whoever asks sees their own name: storing this would show it to the next visitor.
        return str(request.session.get("name", "anonymous"))

    @app.get("/public")
    @cache_response()
    def public() -> str:
        runs.append("public")
        return "same for all"

    with TestClient(app) as client:
        assert [client.get("/mine").text for _ in range(2)] == ["anonymous", "anonymous"]
        assert [client.get("/public").text for _ in range(2)] == ["same for all", "same for all"]
    assert runs == ["mine", "mine", "public"]


def test_responses_that_resolved_the_user_are_not_shared() -> None:
    app = Plait(extensions=[Cache(MemoryBackend())])
    runs: list[int] = []

    def identify(request: Request) -> None:
        request.scope["plait.user"] = object()  # what plait.auth's identity does once it knows the user

    @app.get("/me", dependencies=[Depends(identify)])
    @cache_response()
    def me() -> int:
        runs.append(1)
        return len(runs)

    with TestClient(app) as client:
        assert [client.get("/me").json() for _ in range(2)] == [1, 2]


def test_caching_per_session_when_declared() -> None:
    policy = ResponsePolicy(60.0, vary=("cookie",))
    route = CachedRoute(lambda s, r, x: None, policy, None)  # type: ignore[arg-type,return-value]

    class Accessed:
        accessed = True

    assert not route._personal({"session": Accessed()})


def test_the_declared_vary_joins_the_handlers_own() -> None:
    app = Plait(extensions=[Cache(MemoryBackend())])
    runs: list[str] = []

    @app.get("/own")
    @cache_response(vary=("Accept-Language", "Accept-Encoding"))
    def own() -> Response:
        runs.append("own")
        return JSONResponse({"a": 1}, headers={"Vary": "Accept-Encoding"})

    @app.get("/star")
    @cache_response(vary=("Accept-Language",))
    def star() -> Response:
        runs.append("star")
        return JSONResponse({"a": 1}, headers={"Vary": "*"})

    with TestClient(app) as client:
        first, replayed = client.get("/own"), client.get("/own")
        # Each name once: the handler's own, then the declared ones it did not name.
        expected = ["Accept-Encoding", "accept-language"]
        assert first.headers.get_list("vary") == replayed.headers.get_list("vary") == expected
        assert client.get("/star").headers["vary"] == "*"  # already "everything": nothing to add (never stored)
        client.get("/star")
    assert runs == ["own", "star", "star"]

"""TestClient and AsyncTestClient against Plait apps and raw ASGI apps."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest

from plait._types import Message, Receive, Scope, Send
from plait.app import Plait
from plait.di import Depends
from plait.requests import Request
from plait.responses import StreamingResponse
from plait.testing import CLIENT_ADDRESS, AsyncTestClient, TestClient

# -- apps ------------------------------------------------------------------------------------------


def get_user() -> str:
    return "real"


User = Annotated[str, Depends(get_user)]


def make_app(events: list[str] | None = None) -> Plait:
    log = events if events is not None else []
    app = Plait()

    @app.on_startup
    def started() -> None:
        log.append("startup")

    @app.on_shutdown
    def stopped() -> None:
        log.append("shutdown")

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/me")
    def me(user: User) -> dict[str, str]:
        return {"user": user}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"size": len(body), "head": body[:10].decode(), "client": list(request.client or ())}

    @app.get("/count/{n:int}")
    def count(n: int) -> StreamingResponse:
        async def numbers() -> AsyncIterator[str]:
            for i in range(n):
                yield f"{i}\n"
                await anyio.sleep(0)

        return StreamingResponse(numbers(), media_type="text/plain")

    return app


def raw_app(reply: dict[str, Any]) -> Any:
    """A plain ASGI app (no lifespan support) that answers ``reply`` with the request's scope."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "no lifespan here"
        message = await receive()
        reply["scope"] = scope
        reply["body"] = message["body"]
        await send({"type": "http.response.start", "status": 204, "headers": [(b"x-raw", b"1")]})
        await send({"type": "http.response.body", "body": b""})

    return app


def failing_app(when: str) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if when == "before":
            raise ValueError("broke before the response")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        if when == "during":
            raise ValueError("broke during the body")
        await send({"type": "http.response.body", "body": b""})
        raise ValueError("broke after the response")

    return app


# -- requests --------------------------------------------------------------------------------------


def test_get_inside_with_runs_startup_and_shutdown() -> None:
    events: list[str] = []
    app = make_app(events)
    with TestClient(app) as client:
        assert events == ["startup"]
        response = client.get("/")
        assert response.status_code == 200
        assert response.json() == {"hello": "world"}
    assert events == ["startup", "shutdown"]


def test_requests_work_without_with_and_skip_the_lifespan() -> None:
    events: list[str] = []
    client = TestClient(make_app(events))
    try:
        assert client.get("/").json() == {"hello": "world"}
        assert client.get("/me").json() == {"user": "real"}
    finally:
        client.close()
    assert events == []


def test_request_body_and_client_address() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/echo", content=b"x" * 100_000)
        assert response.json() == {"size": 100_000, "head": "x" * 10, "client": ["testclient", 50000]}


def test_streamed_request_body_is_sent_whole() -> None:
    def parts() -> Iterator[bytes]:
        yield b"hello "
        yield b"world"

    with TestClient(make_app()) as client:
        assert client.post("/echo", content=parts()).json()["head"] == "hello worl"


def test_scope_describes_the_request() -> None:
    reply: dict[str, Any] = {}
    with TestClient(raw_app(reply)) as client:
        response = client.put("/a%20b/c?x=1&y=%C3%A9", content=b"data", headers={"X-Token": "t"})
    assert response.status_code == 204
    assert response.headers["x-raw"] == "1"
    scope = reply["scope"]
    assert scope["method"] == "PUT"
    assert scope["path"] == "/a b/c"
    assert scope["raw_path"] == b"/a%20b/c"
    assert scope["query_string"] == b"x=1&y=%C3%A9"
    assert scope["client"] == CLIENT_ADDRESS == ("testclient", 50000)
    assert scope["server"] == ("testserver", 80)
    assert scope["scheme"] == "http"
    assert (b"x-token", b"t") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert "state" not in scope  # the app has no lifespan, so no lifespan state
    assert reply["body"] == b"data"


def test_base_url_sets_scheme_host_and_port() -> None:
    reply: dict[str, Any] = {}
    client = TestClient(raw_app(reply), base_url="https://example.org:8443")
    with client:
        client.get("/")
    assert reply["scope"]["scheme"] == "https"
    assert reply["scope"]["server"] == ("example.org", 8443)


def test_cookies_are_kept_between_requests() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        cookie = dict(scope["headers"]).get(b"cookie", b"")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", b"sid=abc; Path=/")]})
        await send({"type": "http.response.body", "body": cookie})

    with TestClient(app) as client:
        assert client.get("/").content == b""
        assert client.get("/").content == b"sid=abc"


def test_redirects_are_followed_unless_told_not_to() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/me/").json() == {"user": "real"}
        assert client.get("/me/", follow_redirects=False).status_code == 308
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/me/").status_code == 308


@pytest.mark.anyio
async def test_async_client_follows_redirects_too() -> None:
    async with AsyncTestClient(make_app()) as client:
        assert (await client.get("/me/")).json() == {"user": "real"}
    async with AsyncTestClient(make_app(), follow_redirects=False) as client:
        assert (await client.get("/me/")).status_code == 308


# -- streaming -------------------------------------------------------------------------------------


def test_streaming_response_arrives_in_chunks() -> None:
    with TestClient(make_app()) as client, client.stream("GET", "/count/5") as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        chunks = list(response.iter_raw())
    assert chunks == [b"0\n", b"1\n", b"2\n", b"3\n", b"4\n"]


def forever_app(stopped: threading.Event) -> Plait:
    app = Plait()

    @app.get("/forever")
    def forever() -> StreamingResponse:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                for _ in range(2000):  # bounded: ~20 s even if nothing stopped it
                    yield b"tick"
                    await anyio.sleep(0.01)
            finally:
                stopped.set()

        return StreamingResponse(ticks())

    return app


def test_closing_a_stream_early_stops_the_app() -> None:
    stopped = threading.Event()
    with TestClient(forever_app(stopped)) as client:
        with client.stream("GET", "/forever") as response:
            received = [chunk for _, chunk in zip(range(3), response.iter_raw(), strict=False)]
        assert received == [b"tick"] * 3
        assert stopped.wait(5)
        assert client.get("/").status_code == 404  # the client still works afterwards


def test_leaving_with_closes_streams_left_open() -> None:
    stopped = threading.Event()
    statuses: list[int] = []

    def use_client() -> None:
        with TestClient(forever_app(stopped)) as client:
            response = client.send(client.build_request("GET", "/forever"), stream=True)
            statuses.append(response.status_code)  # never closed by the test

    worker = threading.Thread(target=use_client, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "leaving the client hung on an open stream"
    assert statuses == [200]
    assert stopped.is_set()


def test_streaming_without_with() -> None:
    client = TestClient(make_app())
    with client.stream("GET", "/count/3") as response:
        assert response.read() == b"0\n1\n2\n"
    client.close()


# -- errors ----------------------------------------------------------------------------------------


def test_exception_before_the_response_is_raised() -> None:
    with TestClient(failing_app("before")) as client, pytest.raises(ValueError, match="before the response"):
        client.get("/")


def test_exception_becomes_500_when_not_raised() -> None:
    with TestClient(failing_app("before"), raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert response.content == b""


def test_exception_during_the_body_is_raised_on_read() -> None:
    with TestClient(failing_app("during")) as client:
        with pytest.raises(ValueError, match="during the body"):
            client.get("/")
        with client.stream("GET", "/") as response:
            assert response.status_code == 200
            with pytest.raises(ValueError, match="during the body"):
                response.read()


def test_exception_during_the_body_truncates_it_when_not_raised() -> None:
    with TestClient(failing_app("during"), raise_server_exceptions=False) as client:
        assert client.get("/").content == b"part"


def test_exception_after_the_response_is_raised() -> None:
    with TestClient(failing_app("after")) as client, pytest.raises(ValueError, match="after the response"):
        client.get("/")


def test_plait_turns_handler_errors_into_500() -> None:
    app = Plait()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("handler failed")

    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


def test_app_that_sends_nothing() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    client = TestClient(silent)
    with pytest.raises(RuntimeError, match="without sending a response"):
        client.get("/")
    client.close()


def test_body_before_start_is_a_protocol_error() -> None:
    async def confused(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    client = TestClient(confused)
    with pytest.raises(RuntimeError, match=r"before 'http\.response\.start'"):
        client.get("/")
    client.close()


# -- lifespan --------------------------------------------------------------------------------------


def test_startup_failure_raises_with_its_message() -> None:
    app = make_app()

    @app.on_startup
    def connect() -> None:
        raise ConnectionError("database is down")

    client = TestClient(app, dependency_overrides={get_user: lambda: "fake"})
    with pytest.raises(ConnectionError, match="database is down") as caught, client:
        pass  # pragma: no cover - never reached
    assert "while starting up (ASGI lifespan)" in "".join(caught.value.__notes__)
    assert app.dependency_overrides == {}


def lifespan_app(*, fail: str = "", state: dict[str, Any] | None = None) -> Any:
    """A raw app with lifespan support that can report failure without raising."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await receive()
            body = repr(sorted(scope.get("state", {"missing": 1}).items())).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()
        if fail == "startup":
            await send({"type": "lifespan.startup.failed", "message": "no config file"})
            return
        scope["state"].update(state or {})
        await send({"type": "lifespan.startup.complete"})
        await receive()
        message: Message = {"type": "lifespan.shutdown.complete"}
        if fail == "shutdown":
            message = {"type": "lifespan.shutdown.failed", "message": "could not flush"}
        await send(message)

    return app


def test_reported_startup_failure_raises_runtime_error() -> None:
    client = TestClient(lifespan_app(fail="startup"))
    with pytest.raises(RuntimeError, match="failed to start:\nno config file"), client:
        pass  # pragma: no cover - never reached


def test_reported_shutdown_failure_raises_on_exit() -> None:
    client = TestClient(lifespan_app(fail="shutdown"))
    with pytest.raises(RuntimeError, match="failed to shut down:\ncould not flush"), client:
        assert client.get("/").status_code == 200


def test_lifespan_state_is_copied_into_each_request() -> None:
    with TestClient(lifespan_app(state={"pool": "p1"})) as client:
        assert client.get("/").text == "[('pool', 'p1')]"


def test_app_without_lifespan_support_still_works() -> None:
    reply: dict[str, Any] = {}
    with TestClient(raw_app(reply)) as client:
        assert client.get("/").status_code == 204


# -- dependency overrides --------------------------------------------------------------------------


def test_overrides_apply_inside_with_and_are_removed_after() -> None:
    app = make_app()
    client = TestClient(app, dependency_overrides={get_user: lambda: "fake"})
    assert app.dependency_overrides == {}
    with client:
        assert client.get("/me").json() == {"user": "fake"}
    assert app.dependency_overrides == {}
    with TestClient(app) as plain:
        assert plain.get("/me").json() == {"user": "real"}


def test_overrides_apply_on_first_request_without_with() -> None:
    app = make_app()
    client = TestClient(app, dependency_overrides={get_user: lambda: "fake"})
    assert client.get("/me").json() == {"user": "fake"}
    client.close()
    assert app.dependency_overrides == {}


def test_earlier_override_is_restored() -> None:
    app = make_app()

    def outer() -> str:
        return "outer"

    app.dependency_overrides[get_user] = outer
    with TestClient(app, dependency_overrides={get_user: lambda: "inner"}) as client:
        assert client.get("/me").json() == {"user": "inner"}
    assert app.dependency_overrides == {get_user: outer}


def test_overrides_need_an_app_that_has_them() -> None:
    with pytest.raises(TypeError, match="needs an app with a dependency_overrides mapping"):
        TestClient(raw_app({}), dependency_overrides={get_user: lambda: "x"})


RESOURCE_EVENTS: list[str] = []


async def resource() -> AsyncIterator[str]:
    RESOURCE_EVENTS.append("open")
    yield "r"
    await anyio.sleep(0.01)
    RESOURCE_EVENTS.append("close")


def test_dependency_teardown_finishes_before_the_response_returns() -> None:
    app = Plait()
    RESOURCE_EVENTS.clear()

    @app.get("/")
    def use(value: Annotated[str, Depends(resource)]) -> str:
        return value

    with TestClient(app) as client:
        assert client.get("/").text == "r"
        assert RESOURCE_EVENTS == ["open", "close"]


# -- async -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_runs_lifespan_and_requests() -> None:
    events: list[str] = []
    app = make_app(events)
    async with AsyncTestClient(app, dependency_overrides={get_user: lambda: "fake"}) as client:
        assert events == ["startup"]
        assert (await client.get("/")).json() == {"hello": "world"}
        assert (await client.get("/me")).json() == {"user": "fake"}
        echoed = await client.post("/echo", content=b"abc")
        assert echoed.json() == {"size": 3, "head": "abc", "client": ["testclient", 50000]}
    assert events == ["startup", "shutdown"]
    assert app.dependency_overrides == {}


@pytest.mark.anyio
async def test_async_client_streams() -> None:
    async with AsyncTestClient(make_app()) as client, client.stream("GET", "/count/4") as response:
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert chunks == [b"0\n", b"1\n", b"2\n", b"3\n"]


@pytest.mark.anyio
async def test_async_client_without_with_reads_whole_responses() -> None:
    events: list[str] = []
    client = AsyncTestClient(make_app(events))
    response = await client.get("/count/3")
    assert response.text == "0\n1\n2\n"
    assert "content-length" not in response.headers
    await client.aclose()
    assert events == []


@pytest.mark.anyio
async def test_async_client_raises_app_errors() -> None:
    async with AsyncTestClient(failing_app("before")) as client:
        with pytest.raises(ValueError, match="before the response"):
            await client.get("/")
    async with AsyncTestClient(failing_app("during"), raise_server_exceptions=False) as client:
        assert (await client.get("/")).content == b"part"


@pytest.mark.anyio
async def test_async_startup_failure_raises() -> None:
    app = make_app()

    @app.on_startup
    async def connect() -> None:
        raise ConnectionError("cache is down")

    with pytest.raises(ConnectionError, match="cache is down"):
        async with AsyncTestClient(app):
            pass  # pragma: no cover - never reached


@pytest.mark.anyio
async def test_async_client_closes_streams_left_open() -> None:
    stopped = threading.Event()
    with anyio.fail_after(10):
        async with AsyncTestClient(forever_app(stopped)) as client:
            response = await client.send(client.build_request("GET", "/forever"), stream=True)
            assert response.status_code == 200  # never closed by the test
    assert stopped.is_set()

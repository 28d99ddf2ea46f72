"""Function middleware: ``@app.middleware("http")`` with ``call_next``, streaming and context variables."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.app import Plait
from plait.background import BackgroundTasks
from plait.exceptions import ConfigurationError
from plait.requests import Request
from plait.responses import PlainTextResponse, Response, StreamingResponse
from plait.routing import Middleware, Router
from plait.routing.callnext import CallNext, FunctionMiddleware
from plait.settings import Settings
from plait.testing import AsyncTestClient, TestClient
from plait.websockets import WebSocket

current_user: contextvars.ContextVar[str] = contextvars.ContextVar("current_user", default="nobody")
seen_by_handler: contextvars.ContextVar[str] = contextvars.ContextVar("seen_by_handler", default="unset")


def make_app(**kwargs: Any) -> Plait:
    return Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None, **kwargs)


class Tag:
    """A pure ASGI middleware that appends its value to an ``x-order`` header."""

    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-order", self.value.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


def test_middleware_changes_headers_and_status_of_the_response() -> None:
    app = make_app()

    @app.middleware("http")
    async def stamp(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-path"] = request.path
        response.status_code = 202
        return response

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    with TestClient(app) as client:
        response = client.get("/hello")
    assert response.status_code == 202
    assert response.headers["x-path"] == "/hello"
    assert response.json() == {"hello": "world"}


@pytest.mark.anyio
async def test_streaming_responses_still_stream_through_function_middleware() -> None:
    app = make_app()
    release = anyio.Event()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-mw"] = "yes"
        return response

    @app.get("/events")
    def events() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            yield "first\n"
            await release.wait()  # the handler cannot finish before the client saw the first chunk
            yield "second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    async with AsyncTestClient(app) as client, client.stream("GET", "/events") as response:
        assert response.headers["x-mw"] == "yes"
        parts = response.aiter_raw()
        assert await parts.__anext__() == b"first\n"
        release.set()
        assert [chunk async for chunk in parts] == [b"second\n"]


def test_context_variables_flow_from_middleware_into_async_and_sync_handlers() -> None:
    app = make_app()

    @app.middleware("http")
    async def authenticate(request: Request, call_next: CallNext) -> Response:
        current_user.set(request.headers.get("x-user", "anonymous"))
        return await call_next(request)

    @app.get("/async")
    async def read_async() -> str:
        return current_user.get()

    @app.get("/sync")
    def read_sync() -> str:
        return current_user.get()

    with TestClient(app) as client:
        assert client.get("/async", headers={"x-user": "ada"}).text == "ada"
        assert client.get("/sync", headers={"x-user": "bob"}).text == "bob"
        assert client.get("/sync").text == "anonymous"


def test_context_variables_set_by_the_handler_are_visible_after_call_next() -> None:
    app = make_app()

    @app.middleware("http")
    async def report(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-seen"] = seen_by_handler.get()
        return response

    @app.get("/")
    async def handler() -> str:
        seen_by_handler.set("set in the handler")
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").headers["x-seen"] == "set in the handler"


def test_context_variable_changes_are_copied_back_even_when_the_app_below_fails() -> None:
    app = make_app()

    @app.middleware("http")
    async def rescue(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except ValueError as exc:
            return PlainTextResponse(f"{exc} / {seen_by_handler.get()}", status_code=503)

    @app.get("/")
    async def handler() -> str:
        seen_by_handler.set("before the crash")
        raise ValueError("broken")

    with TestClient(app) as client:
        response = client.get("/")
    assert (response.status_code, response.text) == (503, "broken / before the crash")


def test_add_middleware_runs_the_last_added_first_and_constructor_lists_keep_their_order() -> None:
    app = make_app(middleware=[Middleware(Tag, value="list-1"), Middleware(Tag, value="list-2")])
    app.add_middleware(Tag, value="added-1")

    @app.middleware("http")
    async def function(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers.append("x-order", "function")
        return response

    app.add_middleware(Tag, value="added-2")
    app.get("/")(lambda: "ok")
    with TestClient(app) as client:
        order = client.get("/").headers.get_list("x-order")
    # Response headers are appended innermost first: the outermost middleware speaks last.
    assert order == ["list-2", "list-1", "added-1", "function", "added-2"]


def test_router_function_middleware_wraps_only_that_routers_routes() -> None:
    app = make_app()
    api = Router(prefix="/api")

    @api.middleware("http")
    async def api_only(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-api"] = "1"
        return response

    api.get("/thing")(lambda: "thing")
    app.get("/page")(lambda: "page")
    app.include_router(api)
    with TestClient(app) as client:
        assert client.get("/api/thing").headers.get("x-api") == "1"
        assert "x-api" not in client.get("/page").headers


def test_middleware_may_answer_without_calling_the_app() -> None:
    app = make_app()
    reached: list[str] = []

    @app.middleware("http")
    async def gate(request: Request, call_next: CallNext) -> Response:
        if "x-key" not in request.headers:
            return PlainTextResponse("no key", status_code=401)
        return await call_next(request)

    @app.get("/")
    def secret() -> str:
        reached.append("handler")
        return "secret"

    with TestClient(app) as client:
        assert client.get("/").status_code == 401
        assert reached == []
        assert client.get("/", headers={"x-key": "k"}).text == "secret"


@pytest.mark.anyio
async def test_a_replaced_response_stops_the_endless_stream_below() -> None:
    app = make_app()
    stopped = anyio.Event()

    @app.middleware("http")
    async def replace(request: Request, call_next: CallNext) -> Response:
        await call_next(request)
        return PlainTextResponse("replaced")

    @app.get("/forever")
    def forever() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick\n"
                    await anyio.sleep(0)
            finally:
                stopped.set()

        return StreamingResponse(chunks())

    async with AsyncTestClient(app) as client:
        with anyio.fail_after(5):
            response = await client.get("/forever")
            await stopped.wait()
    assert response.text == "replaced"


def test_a_body_read_by_the_middleware_is_still_there_for_the_handler() -> None:
    app = make_app()

    @app.middleware("http")
    async def sign(request: Request, call_next: CallNext) -> Response:
        size = len(await request.body())
        response = await call_next(request)
        response.headers["x-size"] = str(size)
        return response

    @app.post("/echo")
    async def echo(request: Request) -> str:
        return (await request.body()).decode()

    with TestClient(app) as client:
        response = client.post("/echo", content=b"hello")
    assert (response.text, response.headers["x-size"]) == ("hello", "5")


def test_a_body_streamed_away_by_the_middleware_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.middleware("http")
    async def drain(request: Request, call_next: CallNext) -> Response:
        async for _ in request.stream():
            pass
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> str:
        return (await request.body()).decode()

    with TestClient(app) as client:
        assert client.post("/echo", content=b"hello").status_code == 500
    assert "read it there with 'await request.body()'" in caplog.text


def test_background_tasks_still_run_after_the_response() -> None:
    app = make_app()
    done: list[str] = []

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.post("/jobs")
    def create(tasks: BackgroundTasks) -> str:
        tasks.add_task(done.append, "job")
        return "queued"

    with TestClient(app) as client:
        assert client.post("/jobs").text == "queued"
    assert done == ["job"]


def test_errors_after_the_response_began_are_not_swallowed() -> None:
    async def below(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        raise RuntimeError("late failure")

    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with TestClient(FunctionMiddleware(below, passthrough)) as client, pytest.raises(RuntimeError, match="late"):
        client.get("/")


def test_an_error_in_the_middle_of_the_body_reaches_the_server() -> None:
    async def below(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("mid-stream failure")

    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    client = TestClient(FunctionMiddleware(below, passthrough))
    with client, pytest.raises(RuntimeError, match="mid-stream"):
        client.get("/")


def test_sending_after_the_response_completed_is_an_error() -> None:
    async def below(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        await anyio.sleep(0.01)  # the middleware has closed its side by now
        await send({"type": "http.response.body", "body": b"more"})

    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    client = TestClient(FunctionMiddleware(below, passthrough))
    with client, pytest.raises(OSError, match="did not send this response"):
        client.get("/")


def test_a_replayed_body_still_lets_a_streaming_response_watch_for_disconnects() -> None:
    app = make_app()

    @app.middleware("http")
    async def peek(request: Request, call_next: CallNext) -> Response:
        await request.body()
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        body = await request.body()

        async def chunks() -> AsyncIterator[bytes]:
            yield body
            await anyio.sleep(0.01)  # the response's disconnect watcher calls receive() meanwhile
            yield b"!"

        return StreamingResponse(chunks())

    with TestClient(app) as client:
        assert client.post("/echo", content=b"hello").content == b"hello!"


def test_the_app_below_must_send_a_response() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    client = TestClient(FunctionMiddleware(silent, passthrough))
    with client, pytest.raises(RuntimeError, match="returned without sending a response"):
        client.get("/")


def test_call_next_runs_the_app_once_and_the_result_must_be_a_response() -> None:
    async def twice(request: Request, call_next: CallNext) -> Response:
        await call_next(request)
        return await call_next(request)

    async def wrong(request: Request, call_next: CallNext) -> Any:
        return "text"

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ok")(scope, receive, send)

    with TestClient(FunctionMiddleware(ok, twice)) as client, pytest.raises(RuntimeError, match="only once"):
        client.get("/")
    with TestClient(FunctionMiddleware(ok, wrong)) as client, pytest.raises(TypeError, match="returned str"):
        client.get("/")


def test_other_connections_pass_through_untouched() -> None:
    app = make_app()

    @app.middleware("http")
    async def http_only(request: Request, call_next: CallNext) -> Response:
        raise AssertionError("never called for a WebSocket")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")

    with TestClient(app) as client, client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hi"


def test_declaration_errors_name_the_fix() -> None:
    app = make_app()

    async def mw(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(ConfigurationError, match=r"write @middleware\('http'\)"):
        app.middleware("websocket")(mw)

    def sync_mw(request: Request, call_next: CallNext) -> Response:
        raise AssertionError

    with pytest.raises(ConfigurationError, match="must be declared 'async def sync_mw"):
        app.middleware("http")(sync_mw)

    async def one(request: Request) -> Response:
        raise AssertionError

    with pytest.raises(ConfigurationError, match=r"exactly two parameters: \(request, call_next\)"):
        app.middleware("http")(one)
    assert app.user_middleware == []


def test_middleware_added_after_startup_is_refused() -> None:
    app = make_app()
    app.get("/")(lambda: "ok")
    app.build()
    with pytest.raises(ConfigurationError, match="already started"):
        app.add_middleware(Tag, value="late")

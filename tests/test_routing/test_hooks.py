"""Flask-style request hooks on the app and on routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from plait.app import Plait
from plait.exceptions import ConfigurationError, HTTPException
from plait.requests import Request
from plait.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from plait.routing import Router
from plait.routing.hooks import Hook, with_hooks
from plait.settings import Settings
from plait.testing import AsyncTestClient, TestClient


def make_app(**kwargs: Any) -> Plait:
    return Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None, **kwargs)


def test_hooks_run_around_the_handler_in_flask_order() -> None:
    app = make_app()
    log: list[str] = []

    @app.before_request
    def first() -> None:
        log.append("before 1")

    @app.before_request
    async def second(request: Request) -> None:
        log.append(f"before 2 {request.path}")

    @app.after_request
    def after_one(response: Response) -> Response:
        log.append("after 1")
        return response

    @app.after_request
    async def after_two(request: Request, response: Response) -> Response:
        log.append("after 2")
        response.headers["x-after"] = request.method
        return response

    @app.teardown_request
    def down(exc: BaseException | None) -> None:
        log.append(f"teardown {exc!r}")

    @app.get("/")
    def index() -> str:
        log.append("handler")
        return "ok"

    with TestClient(app) as client:
        response = client.get("/")
    assert (response.text, response.headers["x-after"]) == ("ok", "GET")
    # after_request hooks run in reverse declaration order, as in Flask.
    assert log == ["before 1", "before 2 /", "handler", "after 2", "after 1", "teardown None"]


def test_before_request_may_answer_instead_and_after_request_still_runs() -> None:
    app = make_app()
    reached: list[str] = []

    @app.before_request
    def require_key(request: Request) -> Any:
        if "x-key" not in request.headers:
            return JSONResponse({"error": "no key"}, status_code=401)
        if request.headers["x-key"] == "text":
            return "plain answer"
        if request.headers["x-key"] == "json":
            return {"answer": 42}
        return None

    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers["x-stamped"] = "1"
        return response

    @app.get("/")
    def index() -> str:
        reached.append("handler")
        return "secret"

    with TestClient(app) as client:
        refused = client.get("/")
        assert (refused.status_code, refused.json(), refused.headers["x-stamped"]) == (401, {"error": "no key"}, "1")
        assert client.get("/", headers={"x-key": "text"}).text == "plain answer"
        assert client.get("/", headers={"x-key": "json"}).json() == {"answer": 42}
        assert reached == []
        assert client.get("/", headers={"x-key": "k"}).text == "secret"
    assert reached == ["handler"]


def test_router_hooks_run_only_for_that_routers_routes() -> None:
    app = make_app()
    admin = Router(prefix="/admin")
    log: list[str] = []

    @app.before_request
    def app_hook(request: Request) -> None:
        log.append(f"app {request.path}")

    @admin.before_request
    def admin_hook(request: Request) -> None:
        log.append(f"admin {request.path}")

    @admin.after_request
    def admin_after(response: Response) -> Response:
        response.headers["x-admin"] = "1"
        return response

    admin.get("/panel")(lambda: "panel")
    app.get("/home")(lambda: "home")
    app.include_router(admin)
    with TestClient(app) as client:
        assert client.get("/admin/panel").headers["x-admin"] == "1"
        assert "x-admin" not in client.get("/home").headers
    assert log == ["app /admin/panel", "admin /admin/panel", "app /home"]


def test_routes_without_hooks_are_not_wrapped() -> None:
    endpoint = make_app()  # any ASGI app stands for the route here
    assert with_hooks(endpoint, [], None, None) is endpoint  # type: ignore[arg-type]


def test_teardown_receives_the_exception_that_escaped_and_a_500_follows() -> None:
    app = make_app()
    seen: list[Any] = []

    @app.teardown_request
    async def down(request: Request, exc: BaseException | None) -> None:
        seen.append((request.path, type(exc).__name__ if exc else None))

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("broken")

    @app.get("/missing")
    def missing() -> str:
        raise HTTPException(404, "no such thing")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
        assert client.get("/missing").status_code == 404  # handled, so teardown sees no exception
    assert seen == [("/boom", "ValueError"), ("/missing", None)]


def test_an_exception_in_before_request_goes_to_the_routers_handlers() -> None:
    app = make_app()
    api = Router(prefix="/api")

    @api.exception_handler(PermissionError)
    def refused(request: Request, exc: PermissionError) -> Response:
        return PlainTextResponse("refused by the api", status_code=403)

    @api.before_request
    def check() -> None:
        raise PermissionError

    @app.before_request
    def unhandled(request: Request) -> None:
        if request.path == "/crash":
            raise LookupError("not handled anywhere")

    api.get("/thing")(lambda: "thing")
    app.get("/crash")(lambda: "never")
    app.include_router(api)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/thing").text == "refused by the api"
        assert client.get("/crash").status_code == 500


def test_after_request_may_replace_the_response_and_a_failing_hook_is_a_500() -> None:
    app = make_app()

    @app.after_request
    def swap(request: Request, response: Response) -> Response:
        if request.path == "/fail":
            raise RuntimeError("after_request broke")
        if request.path == "/wrong":
            return "not a response"  # type: ignore[return-value]
        if response.status_code == 404:
            return PlainTextResponse("replaced", status_code=410)
        return response

    @app.get("/gone")
    def gone() -> str:
        raise HTTPException(404)

    app.get("/fail")(lambda: "x")
    app.get("/wrong")(lambda: "x")
    with TestClient(app, raise_server_exceptions=False) as client:
        replaced = client.get("/gone")
        assert (replaced.status_code, replaced.text) == (410, "replaced")
        assert client.get("/fail").status_code == 500
        assert client.get("/wrong").status_code == 500


@pytest.mark.anyio
async def test_after_request_keeps_streaming_responses_streaming() -> None:
    app = make_app()
    release = anyio.Event()

    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers["x-hooked"] = "1"
        return response

    @app.get("/events")
    def events() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            yield "first\n"
            await release.wait()
            yield "second\n"

        return StreamingResponse(chunks())

    async with AsyncTestClient(app) as client, client.stream("GET", "/events") as response:
        assert response.headers["x-hooked"] == "1"
        parts = response.aiter_raw()
        assert await parts.__anext__() == b"first\n"
        release.set()
        assert [chunk async for chunk in parts] == [b"second\n"]


def test_a_body_read_in_before_request_is_still_there_for_the_handler() -> None:
    app = make_app()

    @app.before_request
    async def peek(request: Request) -> None:
        request.state.size = len(await request.body())

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"body": (await request.body()).decode(), "size": request.state.size}

    with TestClient(app) as client:
        assert client.post("/echo", content=b"hello").json() == {"body": "hello", "size": 5}


def test_hook_signatures_are_checked_at_declaration() -> None:
    app = make_app()
    with pytest.raises(ConfigurationError, match=r"declare it as fn\(response\) or fn\(request, response\)"):
        app.after_request(lambda: None)
    with pytest.raises(ConfigurationError, match=r"fn\(\) or fn\(request\)"):
        app.before_request(lambda a, b: None)
    with pytest.raises(ConfigurationError, match="needs a function"):
        Hook.declare("teardown_request", "nope")  # type: ignore[arg-type]
    app.get("/")(lambda: "ok")
    app.build()
    with pytest.raises(ConfigurationError, match="already started"):
        app.before_request(lambda: None)

"""``plait.g``: a fresh per-request namespace, visible in hooks, middleware, handlers and threads."""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest

from plait import g
from plait.app import Plait
from plait.context import RequestContext, current_scope
from plait.dispatch import Dispatcher
from plait.errors import ServerErrors
from plait.requests import Request
from plait.responses import Response
from plait.routing.callnext import CallNext
from plait.settings import Settings
from plait.testing import AsyncTestClient, TestClient


def make_app() -> Plait:
    return Plait(settings=Settings(), docs_url=None, redoc_url=None, openapi_url=None)


def current_user() -> str:
    """A helper deep in the app, with no request at hand."""
    return str(g.user)


def test_g_set_in_a_hook_is_read_in_a_sync_handler_and_is_request_state() -> None:
    app = make_app()

    @app.before_request
    def load_user(request: Request) -> None:
        g.user = request.headers.get("x-user", "anonymous")

    @app.middleware("http")
    async def mark(request: Request, call_next: CallNext) -> Response:
        g.trace = "mw"
        return await call_next(request)

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:  # sync: runs in the thread pool
        return {"user": current_user(), "state": request.state.user, "trace": g.trace}

    with TestClient(app) as client:
        assert client.get("/me", headers={"x-user": "ada"}).json() == {"user": "ada", "state": "ada", "trace": "mw"}
        assert client.get("/me").json()["user"] == "anonymous"


def test_g_is_fresh_for_every_request() -> None:
    app = make_app()

    @app.get("/count")
    def count() -> int:
        g.hits = g.get("hits", 0) + 1
        return int(g.hits)

    with TestClient(app) as client:
        assert [client.get("/count").json() for _ in range(3)] == [1, 1, 1]


@pytest.mark.anyio
async def test_concurrent_requests_never_see_each_others_g() -> None:
    app = make_app()
    both_in = anyio.Event()
    arrived: list[str] = []

    @app.get("/who")
    async def who(request: Request) -> str:
        g.name = request.query_params["name"]
        arrived.append(g.name)
        if len(arrived) == 2:
            both_in.set()
        await both_in.wait()  # both requests have set g before either reads it back
        return str(g.name)

    async with AsyncTestClient(app) as client:
        results: dict[str, str] = {}

        async def fetch(name: str) -> None:
            results[name] = (await client.get("/who", params={"name": name})).text

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(fetch, "ada")
                group.start_soon(fetch, "bob")
    assert results == {"ada": "ada", "bob": "bob"}


def test_g_behaves_like_a_namespace() -> None:
    app = make_app()

    @app.get("/ops")
    def ops() -> dict[str, Any]:
        g.a = 1
        assert "a" in g
        assert "b" not in g
        assert g.setdefault("b", 2) == 2
        assert g.setdefault("b", 3) == 2
        assert g.pop("b") == 2
        assert g.pop("b", "gone") == "gone"
        del g.a
        with pytest.raises(AttributeError, match=r"g has no attribute 'a' in this request; set it first"):
            _ = g.a
        with pytest.raises(AttributeError, match="g has no attribute 'a'"):
            del g.a
        g.c = 3
        return {"repr": repr(g)}

    with TestClient(app) as client:
        assert client.get("/ops").json() == {"repr": "<plait.g {'c': 3}>"}


def test_g_outside_a_request_says_why() -> None:
    assert repr(g) == "<plait.g outside a request>"
    assert current_scope() is None
    with pytest.raises(RuntimeError, match="only available while a request is being served"):
        g.user = "nobody"


def test_the_app_tracks_requests_once_g_is_imported() -> None:
    app = make_app()
    app.get("/")(lambda: "ok")
    assert isinstance(app.build(), RequestContext)
    assert isinstance(app._dispatcher, RequestContext)
    assert all(isinstance(e, RequestContext) for table in app._static.values() for e in table.values())


def test_apps_that_do_not_use_g_are_not_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "plait.context")  # as in a process that never imported it
    app = make_app()
    app.get("/")(lambda: "ok")
    assert isinstance(app.build(), ServerErrors)
    assert isinstance(app._dispatcher, Dispatcher)
    with TestClient(app) as client:
        assert client.get("/").text == "ok"


def test_lifespan_passes_through_the_request_context() -> None:
    app = make_app()
    started: list[str] = []
    app.on_startup(lambda: started.append("up"))
    app.get("/")(lambda: "ok")
    with TestClient(RequestContext(app)) as client:
        assert client.get("/").text == "ok"
    assert started == ["up"]


def test_absolute_url_for_from_the_app_during_a_request() -> None:
    app = make_app()

    @app.get("/users/{id:int}")
    def user(id: int) -> str:
        return app.url_for("user", id=id, _external=True)

    with TestClient(app, base_url="https://example.com") as client:
        assert client.get("/users/7").text == "https://example.com/users/7"

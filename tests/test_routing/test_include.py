"""include_router(prefix, tags, dependencies, responses), Router(responses=), and no routes after startup."""

from __future__ import annotations

import anyio
import pytest

from plait import Depends, HTTPException, Plait, Request, Settings
from plait._types import Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.routing.router import Placed, Router
from tests.support import call


def make_app() -> Plait:
    return Plait(settings=Settings(), openapi_url=None, docs_url=None, redoc_url=None)


def handler() -> str:
    return "ok"


def placed(router: Router) -> list[Placed]:
    return [item for item in router.walk() if isinstance(item, Placed)]


def test_include_adds_tags_dependencies_and_responses_outermost_first() -> None:
    def outer_dep() -> None:
        return None

    def inner_dep() -> None:
        return None

    def route_dep() -> None:
        return None

    app = make_app()
    users = Router("/users", tags=["users"], dependencies=[Depends(inner_dep)], responses={404: "router"})
    users.get("/", tags=["list"], dependencies=[Depends(route_dep)], responses={200: "route"})(handler)
    app.include_router(
        users,
        prefix="/v1",
        tags=["v1", "users"],
        dependencies=[Depends(outer_dep)],
        responses={404: "include", 401: "include"},
    )
    (item,) = placed(app)
    assert item.path == "/v1/users"
    assert item.tags == ("v1", "users", "list")
    assert [d.dependency for d in item.dependencies] == [outer_dep, inner_dep, route_dep]
    assert item.responses == {404: "router", 401: "include", 200: "route"}


def test_app_and_router_responses_are_merged_into_each_route() -> None:
    api = Router("/api", responses={500: "api"})
    child = Router("/c", responses={404: "child"})
    child.get("/x", responses={404: "route"})(handler)
    api.include_router(child, responses={403: "include"})
    (item,) = placed(api)
    assert item.responses == {500: "api", 403: "include", 404: "route"}


def test_include_dependencies_guard_the_routes() -> None:
    def token(request: Request) -> None:
        if request.headers.get("x-token") != "yes":
            raise HTTPException(401, "bad token")

    app = make_app()
    admin = Router("/admin")
    admin.get("/")(handler)
    app.include_router(admin, dependencies=[Depends(token)])
    assert call(app, "GET", "/admin").status_code == 401
    assert call(app, "GET", "/admin", headers={"x-token": "yes"}).text == "ok"


def test_routes_added_after_startup_are_refused() -> None:
    app = make_app()
    app.get("/")(handler)
    late = Router("/late")
    app.include_router(late)
    assert call(app, "GET", "/").text == "ok"  # the first request builds the app
    with pytest.raises(ConfigurationError, match="Declare every route"):
        app.get("/new")(handler)
    with pytest.raises(ConfigurationError, match="the app has already started"):
        app.add_websocket_route("/ws", _ws)
    with pytest.raises(ConfigurationError, match="include_router"):
        app.include_router(Router("/more"))
    with pytest.raises(ConfigurationError, match=r"mount\('/m'\)"):
        app.mount("/m", _asgi)
    with pytest.raises(ConfigurationError, match="route '/x'"):
        late.get("/x")(handler)  # a router already included in the built app


async def _ws() -> None:
    return None


async def _asgi(scope: Scope, receive: Receive, send: Send) -> None:
    return None


def test_lifespan_startup_also_closes_the_route_table() -> None:
    app = make_app()

    async def start() -> None:
        async with app.running():
            pass

    anyio.run(start)
    with pytest.raises(ConfigurationError, match="before startup"):
        app.post("/x")(handler)


def test_a_router_can_still_grow_before_its_app_is_built() -> None:
    app = make_app()
    router = Router("/r")
    app.include_router(router)
    router.get("/later")(handler)  # declared after include_router, before the first request: served
    assert call(app, "GET", "/r/later").text == "ok"

"""Tests for ``plait.routing.router``."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from plait._types import ASGIApp, Receive, Scope, Send
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.routing import Middleware as ExportedMiddleware
from plait.routing import Mount as ExportedMount
from plait.routing import Route as ExportedRoute
from plait.routing import Router as ExportedRouter
from plait.routing.router import HTTP_METHODS, Mount, Placed, Route, Router
from plait.routing.stack import Middleware


def handler() -> str:
    return "ok"


def other() -> str:
    return "other"


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    return None


class Wrapper:
    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def placed(router: Router) -> list[Placed]:
    return [item for item in router.walk() if isinstance(item, Placed)]


def mounts(router: Router) -> list[tuple[str, Mount]]:
    return [item for item in router.walk() if isinstance(item, tuple)]


def test_package_exports() -> None:
    assert ExportedRouter is Router
    assert ExportedRoute is Route
    assert ExportedMount is Mount
    assert ExportedMiddleware is Middleware


# --- declaring routes -------------------------------------------------------------------------


def test_add_route_defaults_to_get() -> None:
    router = Router()
    route = router.add_route("/x", handler)
    assert route.methods == frozenset({"GET"})
    assert route.path == "/x"
    assert route.endpoint is handler
    assert route.options == {}
    assert router.routes == [route]


def test_add_route_upper_cases_and_dedupes_methods() -> None:
    route = Router().add_route("/x", handler, ["get", "Post", "POST"])
    assert route.methods == frozenset({"GET", "POST"})


def test_add_route_keeps_options() -> None:
    route = Router().add_route("/x", handler, status_code=201, tags=["t"], summary="S", name="n")
    assert route.options == {"status_code": 201, "tags": ["t"], "summary": "S", "name": "n"}
    assert route.name == "n"


def test_add_route_accepts_every_http_method() -> None:
    route = Router().add_route("/x", handler, sorted(HTTP_METHODS))
    assert route.methods == HTTP_METHODS


def test_add_route_refuses_unknown_method() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match=r"Route '/x': unknown HTTP method\(s\) \['FETCH', 'GOT'\]"):
        router.add_route("/x", handler, ["GET", "fetch", "got"])
    assert router.routes == []


def test_add_route_refuses_non_callable() -> None:
    endpoint: Any = "not a function"
    with pytest.raises(ConfigurationError, match="the endpoint 'not a function' is not callable"):
        Router().add_route("/x", endpoint)


def test_route_name_falls_back_to_endpoint_name() -> None:
    assert Route("/", handler, frozenset({"GET"})).name == "handler"
    assert Route("/", functools.partial(handler), frozenset({"GET"})).name == "route"
    assert Route("/", handler, frozenset({"GET"}), {"name": ""}).name == "handler"


def test_routes_compare_by_identity() -> None:
    first = Route("/", handler, frozenset({"GET"}))
    second = Route("/", handler, frozenset({"GET"}))
    assert first != second
    assert len({first, second}) == 2


@pytest.mark.parametrize(
    ("verb", "method"),
    [
        ("get", "GET"),
        ("post", "POST"),
        ("put", "PUT"),
        ("patch", "PATCH"),
        ("delete", "DELETE"),
        ("head", "HEAD"),
        ("options", "OPTIONS"),
    ],
)
def test_verb_decorators(verb: str, method: str) -> None:
    router = Router()
    decorator = getattr(router, verb)("/thing", status_code=202)
    returned = decorator(handler)
    assert returned is handler
    (route,) = router.routes
    assert route.methods == frozenset({method})
    assert route.path == "/thing"
    assert route.options == {"status_code": 202}


def test_route_decorator_with_methods() -> None:
    router = Router()

    @router.route("/both", methods=["GET", "POST"], name="both")
    def both() -> None:
        return None

    (route,) = router.routes
    assert route.endpoint is both
    assert route.methods == frozenset({"GET", "POST"})
    assert route.name == "both"


# --- prefixes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/api", "/api/v1"])
def test_valid_prefixes(prefix: str) -> None:
    assert Router(prefix).prefix == prefix


@pytest.mark.parametrize("prefix", ["api", "/api/", "/", "api/"])
def test_invalid_router_prefix(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="must start with '/' and not end with one"):
        Router(prefix)


@pytest.mark.parametrize("prefix", ["v1", "/v1/"])
def test_invalid_include_prefix(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="must start with '/'"):
        Router().include_router(Router(), prefix=prefix)


def test_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match="cannot include itself"):
        router.include_router(router)
    assert router.children == []


def test_include_cycle_is_reported_when_walked() -> None:
    outer = Router(name="outer")
    inner = Router(name="inner")
    outer.include_router(inner)
    inner.include_router(outer)
    with pytest.raises(ConfigurationError, match="'outer' includes itself through its child routers"):
        list(outer.walk())


def test_include_cycle_names_the_prefix_or_unnamed() -> None:
    first = Router("/a")
    second = Router()
    first.include_router(second)
    second.include_router(first)
    with pytest.raises(ConfigurationError, match="'/a' includes itself"):
        list(first.walk())
    with pytest.raises(ConfigurationError, match=r"'\(unnamed\)' includes itself"):
        list(second.walk())


def test_the_same_router_may_be_included_twice() -> None:
    api = Router()
    shared = Router("/items")
    shared.add_route("/", handler)
    api.include_router(shared, prefix="/v1")
    api.include_router(shared, prefix="/v2")
    assert [p.path for p in placed(api)] == ["/v1/items", "/v2/items"]


# --- walk: paths ------------------------------------------------------------------------------


def test_walk_joins_prefixes() -> None:
    app = Router()
    api = Router("/api")
    users = Router("/users")
    users.add_route("/{id}", handler)
    api.include_router(users, prefix="/v1")
    app.include_router(api)
    (item,) = placed(app)
    assert item.path == "/api/v1/users/{id}"
    assert item.chain == (app, api, users)
    assert item.route is users.routes[0]


def test_walk_root_route_under_prefix_has_no_trailing_slash() -> None:
    router = Router("/users")
    router.add_route("/", handler)
    assert placed(router)[0].path == "/users"


def test_walk_root_route_without_prefix_stays_root() -> None:
    router = Router()
    router.add_route("/", handler)
    assert placed(router)[0].path == "/"


def test_walk_prefix_from_include_only() -> None:
    parent = Router()
    child = Router()
    child.add_route("/", handler)
    child.add_route("/x/", other)
    parent.include_router(child, prefix="/c")
    assert [p.path for p in placed(parent)] == ["/c", "/c/x/"]


def test_walk_outer_prefix_argument() -> None:
    router = Router("/r")
    router.add_route("/x", handler)
    (item,) = [i for i in router.walk("/outer") if isinstance(i, Placed)]
    assert item.path == "/outer/r/x"


def test_walk_order_routes_mounts_children() -> None:
    parent = Router()
    child = Router("/c")
    parent.include_router(child)
    child.add_route("/child", other)
    parent.add_route("/own", handler)
    parent.mount("/m", asgi_app)
    kinds = [("route", i.path) if isinstance(i, Placed) else ("mount", i[0]) for i in parent.walk()]
    assert kinds == [("route", "/own"), ("mount", "/m"), ("route", "/c/child")]


def test_empty_router_walks_nothing() -> None:
    assert list(Router().walk()) == []


# --- walk: names, tags, dependencies ----------------------------------------------------------


def test_names_are_prefixed_by_named_routers() -> None:
    app = Router()
    api = Router(name="api")
    anonymous = Router()
    users = Router(name="users")
    users.add_route("/", handler)
    anonymous.include_router(users)
    api.include_router(anonymous)
    app.include_router(api)
    assert placed(app)[0].name == "api.users.handler"


def test_name_unprefixed_without_named_routers() -> None:
    router = Router()
    router.add_route("/", handler)
    assert placed(router)[0].name == "handler"


def test_explicit_route_name_is_used_verbatim() -> None:
    router = Router(name="users")
    router.add_route("/", handler, name="home")
    assert placed(router)[0].name == "home"


def test_tags_accumulate_outer_first_without_duplicates() -> None:
    app = Router(tags=["app"])
    api = Router(tags=["api", "shared"])
    api.add_route("/", handler, tags=["shared", "route", "app"])
    app.include_router(api)
    assert placed(app)[0].tags == ("app", "api", "shared", "route")


def test_dependencies_accumulate_outer_first() -> None:
    first = Depends(handler)
    second = Depends(other)
    third = Depends(handler, use_cache=False)
    app = Router(dependencies=[first])
    api = Router(dependencies=[second])
    api.add_route("/", handler, dependencies=[third])
    app.include_router(api)
    assert placed(app)[0].dependencies == (first, second, third)


def test_router_options_are_copied() -> None:
    tags = ["a"]
    deps = [Depends(handler)]
    handlers: dict[int | type[BaseException], Any] = {404: handler}
    router = Router(tags=tags, dependencies=deps, exception_handlers=handlers)
    tags.append("b")
    deps.clear()
    handlers.clear()
    assert router.tags == ["a"]
    assert len(router.dependencies) == 1
    assert router.exception_handlers == {404: handler}


# --- mounts -----------------------------------------------------------------------------------


def test_mount_under_prefixes() -> None:
    app = Router()
    api = Router("/api")
    api.mount("/legacy", asgi_app, name="legacy")
    app.include_router(api, prefix="/x")
    ((path, mount),) = mounts(app)
    assert path == "/x/api/legacy"
    assert mount == api.mounts[0]
    assert mount.app is asgi_app
    assert mount.name == "legacy"
    assert mount.path == "/legacy"


def test_mount_name_defaults_to_none() -> None:
    router = Router()
    router.mount("/m", asgi_app)
    assert router.mounts[0].name is None


@pytest.mark.parametrize("path", ["", "legacy", "/legacy/", "/"])
def test_mount_refuses_bad_paths(path: str) -> None:
    with pytest.raises(ConfigurationError, match=r"must start with '/'|needs a non-empty path"):
        Router().mount(path, asgi_app)


def test_mount_refuses_empty_path_with_hint() -> None:
    with pytest.raises(ConfigurationError, match=r"mount\(\) needs a non-empty path such as '/legacy'"):
        Router().mount("", asgi_app)


# --- middleware and exception handlers --------------------------------------------------------


def test_add_middleware_puts_the_last_added_outermost() -> None:
    given = Middleware(Wrapper, level=0)
    router = Router(middleware=[given])
    router.add_middleware(Wrapper, level=1)
    router.add_middleware(Wrapper, level=2)
    assert router.user_middleware[-1] is given
    assert [m.options for m in router.user_middleware] == [{"level": 2}, {"level": 1}, {"level": 0}]
    assert all(m.cls is Wrapper for m in router.user_middleware)


def test_add_exception_handler_by_class_and_status() -> None:
    router = Router()
    router.add_exception_handler(ValueError, handler)
    router.add_exception_handler(404, other)
    assert router.exception_handlers == {ValueError: handler, 404: other}


def test_exception_handler_decorator_returns_function() -> None:
    router = Router(exception_handlers={500: other})

    @router.exception_handler(KeyError)
    def on_key_error() -> str:
        return "key"

    assert router.exception_handlers == {500: other, KeyError: on_key_error}
    assert on_key_error() == "key"


def test_placed_chain_exposes_each_routers_handlers_and_middleware() -> None:
    app = Router()
    api = Router(middleware=[Middleware(Wrapper)])
    api.add_exception_handler(ValueError, handler)
    api.add_route("/", handler)
    app.include_router(api)
    chain = placed(app)[0].chain
    assert chain[-1].exception_handlers == {ValueError: handler}
    assert len(chain[-1].user_middleware) == 1
    assert chain[0].user_middleware == []

"""Routers (blueprints): groups of routes with a prefix, tags, dependencies, middleware and error handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar

from typing_extensions import Unpack

from plait._types import ASGIApp
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.routing.stack import Middleware

F = TypeVar("F", bound=Callable[..., Any])
ExceptionKey = int | type[BaseException]
ExceptionHandler = Callable[..., Any]
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
WEBSOCKET = "WEBSOCKET"  # the pseudo-method under which WebSocket routes are stored


class RouteOptions(TypedDict, total=False):
    """Options every route accepts, declared once for every HTTP verb."""

    name: str
    """Name for ``url_for``; defaults to the handler's name (prefixed by a named router)."""
    status_code: int
    """Status of a successful response (default 200)."""
    tags: list[str]
    summary: str
    description: str
    deprecated: bool
    include_in_schema: bool
    responses: dict[int, Any]
    """Extra documented responses: status -> type or description."""
    dependencies: Sequence[Depends]
    """Providers run before the handler for their side effects (checks, auth)."""
    operation_id: str
    response_class: type[Any]
    """A Response subclass used to wrap the return value (e.g. HTMLResponse)."""
    origins: Sequence[str]
    """WebSocket routes only: the ``Origin`` values allowed to connect (others are refused with 403)."""


@dataclass(eq=False)
class Route:
    """A handler bound to a path and methods, as declared (relative to its router)."""

    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    options: RouteOptions = field(default_factory=lambda: RouteOptions())

    @property
    def name(self) -> str:
        return self.options.get("name") or str(getattr(self.endpoint, "__name__", "route"))


@dataclass(eq=False)
class Mount:
    """Any ASGI app served under a path prefix."""

    path: str
    app: ASGIApp
    name: str | None = None


@dataclass(frozen=True)
class Placed:
    """A route with everything its routers contribute: full path, name, tags, guards, middleware, handlers."""

    route: Route
    path: str
    name: str
    tags: tuple[str, ...]
    dependencies: tuple[Depends, ...]
    chain: tuple[Router, ...]


class Router:
    """A group of routes, like a Flask blueprint.

    >>> users = Router(prefix="/users", tags=["users"])
    >>> @users.get("/{id}")
    ... def get_user(id: int) -> dict[str, int]:
    ...     return {"id": id}
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str | None = None,
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        middleware: Sequence[Middleware] = (),
        exception_handlers: dict[ExceptionKey, ExceptionHandler] | None = None,
    ) -> None:
        _check_prefix(prefix)
        self.prefix = prefix
        self.name = name
        self.tags = list(tags)
        self.dependencies = list(dependencies)
        self.middleware = list(middleware)
        self.exception_handlers: dict[ExceptionKey, ExceptionHandler] = dict(exception_handlers or {})
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []
        self.children: list[tuple[Router, str]] = []

    # -- declaring routes -------------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] = ("GET",),
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register ``endpoint`` for ``methods`` at ``path``; GET also answers HEAD."""
        wanted = frozenset(m.upper() for m in methods)
        unknown = wanted - HTTP_METHODS
        if unknown:
            raise ConfigurationError(f"Route {path!r}: unknown HTTP method(s) {sorted(unknown)}.")
        if not callable(endpoint):
            raise ConfigurationError(f"Route {path!r}: the endpoint {endpoint!r} is not callable.")
        route = Route(path, endpoint, wanted, options)
        self.routes.append(route)
        return route

    def route(self, path: str, methods: Sequence[str] = ("GET",), **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Decorator form of :meth:`add_route`."""

        def decorator(fn: F) -> F:
            self.add_route(path, fn, methods, **options)
            return fn

        return decorator

    def add_websocket_route(self, path: str, endpoint: Callable[..., Any], **options: Unpack[RouteOptions]) -> Route:
        """Register an async WebSocket handler at ``path``."""
        import inspect

        if not inspect.iscoroutinefunction(endpoint):
            raise ConfigurationError(
                f"WebSocket route {path!r}: {getattr(endpoint, '__qualname__', endpoint)!r} must be an async def."
            )
        route = Route(path, endpoint, frozenset({WEBSOCKET}), options)
        self.routes.append(route)
        return route

    def websocket(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Decorator for an async WebSocket handler: ``@app.websocket("/ws/{room}")``."""

        def decorator(fn: F) -> F:
            self.add_websocket_route(path, fn, **options)
            return fn

        return decorator

    def mount_static(self, path: str, directory: str, **options: Any) -> None:
        """Serve the files under ``directory`` at ``path`` (see :class:`plait.staticfiles.StaticFiles`)."""
        from plait.staticfiles import StaticFiles  # a sibling layer; imported only by apps that serve files

        name = options.pop("name", None)
        self.mount(path, StaticFiles(directory, **options), name=name)

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("DELETE",), **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("HEAD",), **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("OPTIONS",), **options)

    # -- composition ------------------------------------------------------------------------------

    def include_router(self, router: Router, *, prefix: str = "") -> None:
        """Serve ``router``'s routes under this one, at ``prefix`` + the router's own prefix."""
        _check_prefix(prefix)
        if router is self:
            raise ConfigurationError("A router cannot include itself.")
        self.children.append((router, prefix))

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI app under ``path``; it sees the rest of the path, ``root_path`` holds the prefix."""
        _check_prefix(path)
        if not path:
            raise ConfigurationError("mount() needs a non-empty path such as '/legacy'.")
        self.mounts.append(Mount(path, app, name))

    def add_middleware(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        """Wrap this router's routes (only them) in a middleware; the first added is outermost."""
        self.middleware.append(Middleware(cls, **options))

    def add_exception_handler(self, key: ExceptionKey, handler: ExceptionHandler) -> None:
        """Handle an exception class (or an HTTP status code) raised by this router's routes."""
        self.exception_handlers[key] = handler

    def exception_handler(self, key: ExceptionKey) -> Callable[[F], F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(fn: F) -> F:
            self.add_exception_handler(key, fn)
            return fn

        return decorator

    # -- flattening (startup only) ----------------------------------------------------------------

    def walk(self, prefix: str = "", chain: tuple[Router, ...] = ()) -> Iterator[Placed | tuple[str, Mount]]:
        """Every route and mount below this router, with what its routers contribute."""
        if self in chain:
            raise ConfigurationError(
                f"Router {self.name or self.prefix or '(unnamed)'!r} includes itself through its child routers; "
                "remove one include_router() call."
            )
        here = prefix + self.prefix
        chain = (*chain, self)
        for route in self.routes:
            yield self._place(route, here, chain)
        for mount in self.mounts:
            yield here + mount.path, mount
        for child, child_prefix in self.children:
            yield from child.walk(here + child_prefix, chain)

    @staticmethod
    def _place(route: Route, prefix: str, chain: tuple[Router, ...]) -> Placed:
        names = [r.name for r in chain if r.name]
        name = route.options.get("name") or ".".join([*names, route.name])
        tags = [t for r in chain for t in r.tags] + list(route.options.get("tags", []))
        deps = [d for r in chain for d in r.dependencies] + list(route.options.get("dependencies", []))
        path = prefix + route.path if route.path != "/" or not prefix else prefix
        return Placed(route, path, name, tuple(dict.fromkeys(tags)), tuple(deps), chain)


def _check_prefix(prefix: str) -> None:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigurationError(f"Prefix {prefix!r} must start with '/' and not end with one, e.g. '/api'.")

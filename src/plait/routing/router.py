"""Routers (blueprints): groups of routes with a prefix, tags, dependencies, middleware and error handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from typing_extensions import Unpack

from plait._types import ASGIApp
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.routing.callnext import function_middleware
from plait.routing.hooks import HookKind, Hooks
from plait.routing.options import check_options, foreign_attribute
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
    response_description: str
    deprecated: bool
    include_in_schema: bool
    responses: dict[int | str, Any]
    """Extra documented responses: status -> type or description."""
    dependencies: Sequence[Depends]
    """Providers run before the handler for their side effects (checks, auth)."""
    operation_id: str
    response_class: type[Any]
    """A Response subclass that shapes the result: a str returned to RedirectResponse is its target,
    a path to FileResponse is the file, a generator to EventSourceResponse is the event stream."""
    response_model: Any
    """The type the result is validated and filtered to (instead of the return annotation); None: any value."""
    response_model_exclude_unset: bool
    """Leave out top-level fields the returned dict or pydantic model did not set."""
    response_model_include: set[str] | frozenset[str]
    """Only these top-level fields are sent."""
    response_model_exclude: set[str] | frozenset[str]
    """These top-level fields are never sent."""
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
    responses: dict[int | str, Any] = field(default_factory=dict)
    """Documented extra responses, merged outermost first: routers, include_router() calls, the route."""


@dataclass(frozen=True)
class Included:
    """One ``include_router()`` call: the child and what the call adds to each of its routes."""

    router: Router
    prefix: str = ""
    tags: tuple[str, ...] = ()
    dependencies: tuple[Depends, ...] = ()
    responses: dict[int | str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Inherited:
    """What the routers and include calls above a router give its routes (outermost first)."""

    tags: tuple[str, ...] = ()
    dependencies: tuple[Depends, ...] = ()
    responses: tuple[tuple[int | str, Any], ...] = ()


class Router:
    """A group of routes, like a Flask blueprint.

    >>> users = Router(prefix="/users", tags=["users"])
    >>> @users.get("/{id}")
    ... def get_user(id: int) -> dict[str, int]:
    ...     return {"id": id}
    """

    if not TYPE_CHECKING:  # pragma: no branch - at run time only, so mypy still reports a misspelt attribute

        def __getattr__(self, name: str) -> Any:
            # Only reached for attributes that do not exist: Flask/FastAPI names get the Plait way.
            raise foreign_attribute(type(self).__name__, name)

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str | None = None,
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        middleware: Sequence[Middleware] = (),
        exception_handlers: dict[ExceptionKey, ExceptionHandler] | None = None,
        responses: dict[int | str, Any] | None = None,
    ) -> None:
        _check_prefix(prefix)
        check_options(f"Router {name or prefix or '(unnamed)'!r}", {"tags": tags, "dependencies": dependencies})
        if responses is not None:
            check_options(f"Router {name or prefix or '(unnamed)'!r}", {"responses": responses})
        self.prefix = prefix
        self.name = name
        self.tags = list(tags)
        self.dependencies = list(dependencies)
        self.responses: dict[int | str, Any] = dict(responses or {})
        self.built = False  # set once an app compiled this router: later routes would never be served
        self.user_middleware = list(middleware)  # outermost first (see plait.routing.stack)
        self.hooks = Hooks()
        self.exception_handlers: dict[ExceptionKey, ExceptionHandler] = dict(exception_handlers or {})
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []
        self.children: list[Included] = []

    # -- declaring routes -------------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] = ("GET",),
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register ``endpoint`` for ``methods`` at ``path``; GET also answers HEAD.

        Every option is checked here: an unknown one (``status=201``) raises a ConfigurationError
        naming the nearest valid option (``status_code``).
        """
        wanted = frozenset(m.upper() for m in methods)
        unknown = wanted - HTTP_METHODS
        if unknown:
            raise ConfigurationError(f"Route {path!r}: unknown HTTP method(s) {sorted(unknown)}.")
        if not callable(endpoint):
            raise ConfigurationError(f"Route {path!r}: the endpoint {endpoint!r} is not callable.")
        self._check_open(f"route {path!r}")
        check_options(f"{'/'.join(sorted(wanted))} {path} ({_describe(endpoint)})", options)
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
        self._check_open(f"WebSocket route {path!r}")
        check_options(f"WebSocket {path} ({_describe(endpoint)})", options, websocket=True)
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

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        responses: dict[int | str, Any] | None = None,
    ) -> None:
        """Serve ``router``'s routes under this one, at ``prefix`` + the router's own prefix.

        ``tags``, ``dependencies`` and ``responses`` are added to each of its routes, outside the
        router's own (so these dependencies run first).

        >>> api, users = Router(prefix="/api"), Router(prefix="/users")
        >>> api.include_router(users, tags=["users"], responses={404: {"description": "No such user"}})
        """
        _check_prefix(prefix)
        if router is self:
            raise ConfigurationError("A router cannot include itself.")
        self._check_open(f"include_router() of {router.name or router.prefix or 'a router'!r}")
        extra: dict[str, Any] = {"tags": tags, "dependencies": dependencies, "responses": responses or {}}
        check_options(f"include_router({router.name or router.prefix or '(unnamed)'!r})", extra)
        self.children.append(Included(router, prefix, tuple(tags), tuple(dependencies), dict(responses or {})))

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI app under ``path``; it sees the rest of the path, ``root_path`` holds the prefix."""
        _check_prefix(path)
        if not path:
            raise ConfigurationError("mount() needs a non-empty path such as '/legacy'.")
        self._check_open(f"mount({path!r})")
        self.mounts.append(Mount(path, app, name))

    def _check_open(self, what: str) -> None:
        if self.built:
            raise ConfigurationError(
                f"Cannot add {what}: the app has already started (built on its first request or at startup), so "
                "it would never be served. Declare every route, router and mount before startup, at import time."
            )

    def seal(self) -> None:
        """Refuse new routes from now on (called by the app once it has compiled this router)."""
        self.built = True
        for child in self.children:
            child.router.seal()

    def add_middleware(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        """Wrap this router's routes (only them; the app's: every request) in a middleware.

        As in Starlette, the last added runs first (it becomes the outermost).
        """
        self._check_open(f"middleware {getattr(cls, '__name__', cls)}")
        self.user_middleware.insert(0, Middleware(cls, **options))

    def middleware(self, kind: str) -> Callable[[F], F]:
        """Declare function middleware: ``@app.middleware("http")`` on ``async def mw(request, call_next)``.

        ``call_next(request)`` returns the Response of the rest of the app, whose status and headers the
        middleware may change before returning it. Counted like :meth:`add_middleware` (last declared
        runs first); on a router it wraps only that router's routes.
        """

        def decorator(fn: F) -> F:
            declared = function_middleware(kind, fn)
            self._check_open(f"middleware {getattr(fn, '__qualname__', fn)}")
            self.user_middleware.insert(0, declared)
            return fn

        return decorator

    def _hook(self, kind: HookKind, fn: F) -> F:
        self._check_open(f"@{kind} {getattr(fn, '__qualname__', fn)}")
        self.hooks.add(kind, fn)
        return fn

    def before_request(self, fn: F) -> F:
        """Run ``fn()`` or ``fn(request)`` before each of this router's routes; a returned value answers instead."""
        return self._hook("before_request", fn)

    def after_request(self, fn: F) -> F:
        """Run ``fn(response)`` or ``fn(request, response)`` as each response begins; return the response."""
        return self._hook("after_request", fn)

    def teardown_request(self, fn: F) -> F:
        """Run ``fn(exc)`` or ``fn(request, exc)`` after each response, always (``exc`` is None on success)."""
        return self._hook("teardown_request", fn)

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

    def walk(
        self, prefix: str = "", chain: tuple[Router, ...] = (), inherited: _Inherited | None = None
    ) -> Iterator[Placed | tuple[str, Mount]]:
        """Every route and mount below this router, with what its routers contribute."""
        if self in chain:
            raise ConfigurationError(
                f"Router {self.name or self.prefix or '(unnamed)'!r} includes itself through its child routers; "
                "remove one include_router() call."
            )
        here = prefix + self.prefix
        chain = (*chain, self)
        above = inherited or _Inherited()
        mine = _Inherited(
            (*above.tags, *self.tags),
            (*above.dependencies, *self.dependencies),
            (*above.responses, *self.responses.items()),
        )
        for route in self.routes:
            yield self._place(route, here, chain, mine)
        for mount in self.mounts:
            yield here + mount.path, mount
        for child in self.children:
            given = _Inherited(
                (*mine.tags, *child.tags),
                (*mine.dependencies, *child.dependencies),
                (*mine.responses, *child.responses.items()),
            )
            yield from child.router.walk(here + child.prefix, chain, given)

    @staticmethod
    def _place(route: Route, prefix: str, chain: tuple[Router, ...], inherited: _Inherited) -> Placed:
        names = [r.name for r in chain if r.name]
        name = route.options.get("name") or ".".join([*names, route.name])
        tags = [*inherited.tags, *route.options.get("tags", [])]
        deps = [*inherited.dependencies, *route.options.get("dependencies", [])]
        responses = {**dict(inherited.responses), **route.options.get("responses", {})}
        path = prefix + route.path if route.path != "/" or not prefix else prefix
        return Placed(route, path, name, tuple(dict.fromkeys(tags)), tuple(deps), chain, responses)


def _describe(endpoint: Callable[..., Any]) -> str:
    return str(getattr(endpoint, "__qualname__", None) or repr(endpoint))


def _check_prefix(prefix: str) -> None:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigurationError(f"Prefix {prefix!r} must start with '/' and not end with one, e.g. '/api'.")

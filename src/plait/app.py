"""The composition root: routers, middleware stack, lifespan, error handlers, compiled once."""

from __future__ import annotations

import contextlib
import inspect
import sys
import traceback
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Generic

import msgspec
from typing_extensions import TypeVar

from plait._types import ASGIApp, Receive, Scope, Send
from plait.api_info import check_metadata
from plait.concurrency import ThreadPool
from plait.datastructures import State
from plait.di.container import Container
from plait.di.markers import Depends
from plait.di.plan import CallPlan, Dependency, PlanCompiler
from plait.dispatch import Dispatcher, MethodTable
from plait.endpoint import Endpoint, WebSocketEndpoint
from plait.errors import HandlerTable, ResponseGuard, ServerErrors, handle
from plait.exceptions import ConfigurationError
from plait.extensions import Extension, Extensions, default_extension, installed
from plait.params.extractors import ValueExtractor
from plait.requests import Request, RequestLimits, external_url
from plait.results import compile_result
from plait.routing.hooks import with_hooks
from plait.routing.matcher import Matcher
from plait.routing.paths import PathTemplate, parse_path
from plait.routing.router import WEBSOCKET, ExceptionHandler, ExceptionKey, Mount, Placed, Router
from plait.routing.stack import Middleware, build_stack
from plait.settings import Settings, load_settings

StateT = TypeVar("StateT", default=State)
ExtensionT = TypeVar("ExtensionT", bound=Extension)
Lifespan = Callable[["Plait[Any]"], contextlib.AbstractAsyncContextManager[Any]]
Hook = Callable[[], Any]


class RouteInfo(msgspec.Struct, frozen=True):
    """One row of the route table, as ``plait routes`` prints it."""

    path: str
    methods: tuple[str, ...]
    name: str
    endpoint: str


class CompiledRoute(msgspec.Struct, frozen=True):
    """A route after startup: where it sits, its template and the plans that serve it (for OpenAPI, tools)."""

    placed: Placed
    template: PathTemplate
    plan: CallPlan
    guards: tuple[CallPlan, ...]


class Plait(Router, Generic[StateT]):
    """A Plait application.

    >>> app = Plait()
    >>> @app.get("/")
    ... def hello() -> dict[str, str]:
    ...     return {"hello": "world"}

    Routes are compiled on the first request or at lifespan startup, whichever comes first;
    configuration errors are raised then, naming the handler and the fix.
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        debug: bool | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        middleware: Sequence[Middleware] = (),
        exception_handlers: dict[ExceptionKey, ExceptionHandler] | None = None,
        dependencies: Sequence[Depends] = (),
        state: StateT | None = None,
        title: str = "Plait",
        version: str = "0.1.0",
        description: str | None = None,
        summary: str | None = None,
        terms_of_service: str | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        servers: Sequence[str | Mapping[str, Any]] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        extensions: Sequence[Extension] = (),
    ) -> None:
        super().__init__(middleware=middleware, exception_handlers=exception_handlers, dependencies=dependencies)
        settings = settings if settings is not None else load_settings(Settings)
        if debug is not None:
            settings = msgspec.structs.replace(settings, debug=debug)
        self.settings = settings
        self.title = title
        self.version = version
        self.description = description
        self._openapi_metadata(summary, terms_of_service, contact, license_info, openapi_tags, servers)
        self.docs_urls = (openapi_url, docs_url, redoc_url)
        """Where the ``openapi`` extension serves the document and the docs pages (None leaves one out)."""
        self.openapi_schema: dict[str, Any] | None = None
        """The document ``app.openapi()`` built, kept for the next call; set it to None to rebuild."""
        self.openapi: Callable[[], dict[str, Any]] = self._build_openapi
        """The OpenAPI document, served at ``openapi_url``; assign a function to customise it."""
        self.state: StateT = state if state is not None else State()  # type: ignore[assignment]
        self.lifespan = lifespan
        self.startup_hooks: list[Hook] = list(on_startup)
        self.shutdown_hooks: list[Hook] = list(on_shutdown)
        self.container = Container(ThreadPool(settings.thread_pool_size), PlanCompiler(settings.max_json_depth))
        self._stack: ASGIApp | None = None
        self._dispatcher: ASGIApp | None = None
        self._static: dict[str, dict[str, ASGIApp]] = {}
        self._errors: ServerErrors  # set by _compile, before _dispatcher
        self._compiled: list[CompiledRoute] = []
        self._plans: list[CallPlan] = []
        self._templates: dict[str, PathTemplate] = {}
        self._ambiguous: set[str] = set()
        self._extensions = Extensions()
        for extension in extensions:
            self._extensions.add(extension)

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """Replace providers, typically in tests: ``app.dependency_overrides[get_db] = fake_db``."""
        return self.container.overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Mapping[Callable[..., Any], Callable[..., Any]]) -> None:
        # Filled in place (not rebound): test clients hold the same mapping to restore it on exit.
        replacement = dict(overrides)
        self.container.overrides.clear()
        self.container.overrides.update(replacement)

    @property
    def debug(self) -> bool:
        return self.settings.debug

    @property
    def extensions(self) -> Extensions:
        """The installed extensions (``app.extensions["database"]``) and what they contributed."""
        return self._extensions

    def install(self, extension: ExtensionT) -> ExtensionT:
        """Plug a battery in before the app starts; returns it (``db = app.install(Database())``)."""
        return installed(self._extensions, extension)

    def on_startup(self, fn: Hook) -> Hook:
        """Run ``fn`` (sync or async) when the app starts."""
        self.startup_hooks.append(fn)
        return fn

    def on_shutdown(self, fn: Hook) -> Hook:
        """Run ``fn`` (sync or async) when the app stops."""
        self.shutdown_hooks.append(fn)
        return fn

    # -- compilation ------------------------------------------------------------------------------

    def build(self) -> ASGIApp:
        """Compile the route table and the middleware stack (idempotent; call it to check an app)."""
        if self._stack is None:
            self._stack = self._compile()
        return self._stack

    def _openapi_metadata(
        self,
        summary: str | None,
        terms_of_service: str | None,
        contact: Mapping[str, Any] | None,
        license_info: Mapping[str, Any] | None,
        openapi_tags: Sequence[Mapping[str, Any]] | None,
        servers: Sequence[str | Mapping[str, Any]] | None,
    ) -> None:
        """Keep the document's metadata, refusing a wrong shape here, where the app is declared."""
        check_metadata(
            summary=summary,
            terms_of_service=terms_of_service,
            contact=contact,
            license_info=license_info,
            openapi_tags=openapi_tags,
            servers=servers,
        )
        self.summary = summary
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_tags = openapi_tags
        self.servers = servers

    def _build_openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = self._openapi_extension().document(self)
        return self.openapi_schema

    def _openapi_extension(self) -> Any:
        """The installed ``openapi`` extension, or (docs off) a fresh default one that only builds the document."""
        found = [ext for ext in self._extensions if ext.name == "openapi"]
        return found[0] if found else default_extension("openapi")

    def _install_defaults(self) -> None:
        """Install the OpenAPI docs extension unless the docs are off or an ``openapi`` extension is installed.

        It is installed at startup, by name (plait.extensions.DEFAULT_EXTENSIONS), because the OpenAPI layer
        sits above this module: the core names it as configuration and never imports it, and apps that turn
        the docs off never load it.
        """
        if any(url is not None for url in self.docs_urls) and all(ext.name != "openapi" for ext in self._extensions):
            self._extensions.add(default_extension("openapi"))

    def walk(
        self, prefix: str = "", chain: tuple[Router, ...] = (), inherited: Any = None
    ) -> Iterator[Placed | tuple[str, Mount]]:
        """Every route and mount of the app, then its extensions' pages, such as the docs (see :meth:`Router.walk`)."""
        yield from super().walk(prefix, chain, inherited)
        for pages in self._extensions.pages:
            # Extension pages are the app's own, not part of its API: they inherit nothing the app hands
            # down to its routes, so app-wide dependencies (an auth check, typically) do not guard them.
            yield from pages.walk(prefix + self.prefix, (*chain, self))

    def _compile(self) -> ASGIApp:
        self._install_defaults()
        self._extensions.setup(self)
        matcher: Matcher[MethodTable] = Matcher()
        tables: dict[str, MethodTable] = {}
        owners: dict[tuple[str, str], str] = {}
        mounts: list[tuple[str, ASGIApp]] = []
        self._compiled, self._plans, self._templates, self._ambiguous = [], [], {}, set()
        self._mount_paths: dict[str, str] = {}
        for item in self.walk():
            if isinstance(item, tuple):
                path, mount = item
                mounts.append((path, mount.app))
                if mount.name:
                    self._mount_paths[mount.name] = path
                continue
            template = parse_path(item.path)
            endpoint = self._endpoint(item, template)
            table = tables.get(item.path)
            if table is None:
                table = tables[item.path] = MethodTable()
                matcher.add(template, table)
            for method in item.route.methods:
                _claim(owners, item, method)
                table.endpoints[method] = endpoint
            self._name(item, template)
        for table in tables.values():
            table.finish()
        dispatcher = Dispatcher(matcher, mounts, self.settings.redirect_slashes)
        self._limits = RequestLimits(self.settings)
        inner = _AppErrors(dispatcher, HandlerTable([self.exception_handlers]), self._limits)
        stack = build_stack(build_stack(inner, self._extensions.middleware), self.user_middleware)
        self._errors = ServerErrors(stack, HandlerTable([self.exception_handlers]), self.settings.debug)
        _check_mount_names(self._mount_paths, self._templates)
        track = _request_tracking()
        if not self.user_middleware and not self._extensions.middleware:
            # PERF: with no app-wide middleware there is nothing between the app and its routes, so
            # __call__ dispatches itself: static paths by one dict lookup, errors answered without
            # wrapping send (see __call__).
            self._dispatcher = track(dispatcher)
            self._static = {path: _tracked(table.endpoints, track) for path, table in matcher.static.items()}
        self.seal()  # a route added from now on would never be served: refuse it loudly instead
        return track(self._errors)

    def _endpoint(self, item: Placed, template: PathTemplate) -> ASGIApp:
        compiler = self.container.compiler
        params = template.param_names
        plan = compiler.compile(item.route.endpoint, params, item.route.methods)
        guards = [self._guard(compiler, dep, params, item.route.methods) for dep in item.dependencies]
        missing = params - _path_keys(plan) - {k for g in guards for k in _path_keys(g.plan)}
        if missing:
            names = ", ".join(sorted(missing))
            raise ConfigurationError(
                f"{plan.name}: route {item.path!r} has path parameter(s) {names} that the handler does not take; "
                f"add a parameter named {sorted(missing)[0]!r} to the handler."
            )
        self._plans.append(plan)
        self._plans.extend(g.plan for g in guards)
        self._compiled.append(CompiledRoute(item, template, plan, tuple(g.plan for g in guards)))
        options = item.route.options
        endpoint: ASGIApp
        if WEBSOCKET in item.route.methods:
            _check_websocket_plan(plan)
            endpoint = WebSocketEndpoint(plan, guards, self.container, options.get("origins", ()))
        else:
            endpoint = self._http_endpoint(item, plan, guards)
        endpoint = self._extensions.wrap(self._compiled[-1], endpoint)  # innermost: around the handler only
        for router in reversed(item.chain[1:]):  # the app's own middleware wraps everything, not each route
            endpoint = build_stack(endpoint, router.user_middleware)
        return endpoint

    def _http_endpoint(self, item: Placed, plan: CallPlan, guards: list[Dependency]) -> ASGIApp:
        options = item.route.options
        table = HandlerTable(r.exception_handlers for r in item.chain)
        endpoint = Endpoint(
            plan,
            guards,
            self.container,
            table,
            status_code=options.get("status_code", 200),
            response_class=options.get("response_class"),
            result=compile_result(plan, options, guards),
        )
        return with_hooks(endpoint.asgi, [r.hooks for r in item.chain], table, self.container.pool)

    @staticmethod
    def _guard(compiler: PlanCompiler, dep: Depends, params: frozenset[str], methods: frozenset[str]) -> Dependency:
        return Dependency(compiler.compile(dep.dependency, params, methods), dep.use_cache, dep.scope)

    def _name(self, item: Placed, template: PathTemplate) -> None:
        previous = self._templates.get(item.name)
        if previous is None or previous.path == template.path:
            self._templates[item.name] = template
        elif "name" in item.route.options:
            raise ConfigurationError(
                f"Two routes are named {item.name!r} ({previous.path} and {template.path}); "
                "give one a different name=... so url_for() can tell them apart."
            )
        else:  # a derived name (one function on two paths): only url_for() needs to care
            self._ambiguous.add(item.name)

    # -- introspection ----------------------------------------------------------------------------

    def compiled_routes(self) -> list[CompiledRoute]:
        """Every HTTP route after compilation, in declaration order."""
        self.build()
        return list(self._compiled)

    def routes_table(self) -> list[RouteInfo]:
        """The compiled route table, in declaration order (mounts last)."""
        self.build()
        rows = [
            RouteInfo(
                p.path,
                tuple(sorted(p.route.methods | ({"HEAD"} if "GET" in p.route.methods else set()))),
                p.name,
                f"{getattr(p.route.endpoint, '__module__', '?')}.{getattr(p.route.endpoint, '__qualname__', '?')}",
            )
            for p in (c.placed for c in self._compiled)
        ]
        for item in self.walk():
            if isinstance(item, tuple):
                path, mount = item
                rows.append(RouteInfo(path + "/{path}", ("*",), mount.name or "", _describe_app(mount)))
        return rows

    def url_for(self, name: str, /, *, _external: bool = False, **params: Any) -> str:
        """The path of the route (or named mount) called ``name``; parameters not in the path become the query.

        >>> app = Plait()
        >>> @app.get("/users/{id:int}")
        ... def user(id: int) -> dict[str, int]:
        ...     return {"id": id}
        >>> app.mount_static("/static", ".", name="static")
        >>> app.url_for("user", id=7, tab="posts")
        '/users/7?tab=posts'
        >>> app.url_for("static", path="css/app.css")
        '/static/css/app.css'

        ``_external=True`` gives an absolute URL (scheme, host, ``root_path``) built from the current request;
        it needs one (see :mod:`plait.context`), so in a handler prefer ``request.url_for(name, ...)``.
        """
        self.build()
        if _external:
            return _external_url(self.url_for(name, **params))
        if name in self._mount_paths and name not in self._templates:
            return _mount_url(name, self._mount_paths[name], params)
        template = self._templates.get(name)
        if name in self._ambiguous:
            raise ConfigurationError(
                f"Several routes are named {name!r}; pass name=... to the one url_for() should find."
            )
        if template is None:
            known = ", ".join(sorted({*self._templates, *self._mount_paths})) or "none"
            raise ConfigurationError(f"No route is named {name!r}; known names: {known}.")
        missing = template.param_names - params.keys()
        if missing:
            raise ConfigurationError(f"url_for({name!r}) needs {', '.join(sorted(missing))}.")
        path = template.format(params)
        extra = {k: v for k, v in params.items() if k not in template.param_names}
        if extra:
            from urllib.parse import urlencode

            path += "?" + urlencode(extra, doseq=True)
        return path

    # -- ASGI -------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        dispatcher = self._dispatcher
        if dispatcher is not None and scope["type"] == "http":
            try:
                self._limits.check(scope)
                endpoints = None if scope.get("root_path") else self._static.get(scope["path"])
                endpoint = endpoints.get(scope["method"]) if endpoints is not None else None
                if endpoint is not None:  # a static route has no path parameters (Request reads {} then)
                    await endpoint(scope, receive, send)
                else:
                    await dispatcher(scope, receive, send)
            except Exception as exc:
                await self._errors.answer(scope, receive, send, exc, started=False)
            return
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await (self._stack or self.build())(scope, receive, send)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Plait[StateT]]:
        """Start and stop the app around a block: compile, app-scoped providers, hooks, lifespan."""
        self.build()
        await self._extensions.start(self)  # engines and pools first: app-scoped providers may need them
        try:
            await self.container.start(self._plans)
            for hook in self.startup_hooks:
                await _call(hook)
            try:
                async with contextlib.AsyncExitStack() as stack:
                    if self.lifespan is not None:
                        value = await stack.enter_async_context(self.lifespan(self))
                        if isinstance(value, Mapping):
                            for key, item in value.items():
                                setattr(self.state, key, item)
                    yield self
            finally:  # once the startup hooks ran, the shutdown hooks run too, even after an error
                for hook in self.shutdown_hooks:
                    await _call(hook)
        finally:
            try:
                await self.container.stop()
            finally:
                await self._extensions.stop()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        started = False
        try:
            async with self.running():
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()
        except BaseException:
            kind = "shutdown" if started else "startup"
            await send({"type": f"lifespan.{kind}.failed", "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})


class _AppErrors:
    """App-level handlers for errors raised outside a route (404, 405, router middleware)."""

    def __init__(self, app: ASGIApp, table: HandlerTable, limits: RequestLimits) -> None:
        self.app = app
        self.table = table
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = ResponseGuard(send)
        try:
            if scope["type"] == "http":
                self.limits.check(scope)
            await self.app(scope, receive, guard)
        except Exception as exc:
            if scope["type"] != "http" or guard.started:
                raise
            response = await handle(self.table, Request(scope, receive), exc)
            if response is None:
                raise
            await response(scope, receive, send)


async def _call(hook: Hook) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result


def _claim(owners: dict[tuple[str, str], str], item: Placed, method: str) -> None:
    key = (item.path, method)
    name = getattr(item.route.endpoint, "__qualname__", repr(item.route.endpoint))
    if key in owners:
        raise ConfigurationError(
            f"{method} {item.path} is routed twice: to {owners[key]} and to {name}; remove or rename one."
        )
    owners[key] = name


def _check_websocket_plan(plan: CallPlan) -> None:
    if plan.body is not None or plan.async_params:
        raise ConfigurationError(
            f"{plan.name}: a WebSocket handler has no request body; receive messages with ws.receive_json() instead "
            "of body or form parameters."
        )


def _path_keys(plan: CallPlan) -> set[str]:
    keys = {ex.key for _, ex in plan.sync_params if isinstance(ex, ValueExtractor) and ex.source == "path"}
    for dep in plan.dependencies:
        keys |= _path_keys(dep.plan)
    return keys


def _request_tracking() -> Callable[[ASGIApp], ASGIApp]:
    """How to wrap the app's entry points so ``plait.g`` knows the current request, if the app uses it.

    ``plait.context`` is imported by an app's own code only (``from plait import g``), never by Plait itself,
    so apps that do not use ``g`` get the identity here and pay nothing per request.
    """
    context = sys.modules.get("plait.context")
    if context is None:
        return _unchanged
    wrap: Callable[[ASGIApp], ASGIApp] = context.RequestContext
    return wrap


def _unchanged(app: ASGIApp) -> ASGIApp:
    return app


def _tracked(endpoints: dict[str, ASGIApp], track: Callable[[ASGIApp], ASGIApp]) -> dict[str, ASGIApp]:
    return endpoints if track is _unchanged else {method: track(app) for method, app in endpoints.items()}


def _check_mount_names(mounts: Mapping[str, str], routes: Mapping[str, PathTemplate]) -> None:
    for name, path in mounts.items():
        if name in routes:
            raise ConfigurationError(
                f"The name {name!r} is given to the mount at {path} and to the route {routes[name].path}; "
                "rename one so url_for() can tell them apart."
            )


def _mount_url(name: str, prefix: str, params: Mapping[str, Any]) -> str:
    """``url_for`` for a named mount: the prefix, then ``path=`` (quoted), then the other params as the query."""
    from urllib.parse import quote, urlencode

    rest = {k: v for k, v in params.items() if k != "path"}
    path = prefix + "/" + quote(str(params.get("path", "")).lstrip("/"))
    return path + ("?" + urlencode(rest, doseq=True) if rest else "")


def _external_url(path: str) -> str:
    context = sys.modules.get("plait.context")
    scope = context.current_scope() if context is not None else None
    if scope is None:
        raise RuntimeError(
            "url_for(..., _external=True) needs the current request to know the scheme and host; "
            "call request.url_for(name, ...) in the handler instead (it returns the absolute URL)."
        )
    return external_url(scope, path)


def _describe_app(mount: Mount) -> str:
    app = mount.app
    return f"{type(app).__module__}.{type(app).__qualname__}" if not inspect.isfunction(app) else app.__qualname__

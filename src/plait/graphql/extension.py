"""``GraphQL``: the extension that serves a Strawberry schema over HTTP and WebSocket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext

from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.graphql.context import injection
from plait.graphql.execution import Executor
from plait.graphql.graphiql import GraphiQLAssets
from plait.graphql.http import handle
from plait.graphql.websocket import serve
from plait.requests import Request
from plait.responses import HTMLResponse, Response
from plait.routing.router import Router
from plait.websockets import WebSocket

if TYPE_CHECKING:
    import click

    from plait.app import Plait

_LIMITS = "__plait_graphql_limit__"


class GraphQL(Extension):
    """Serve ``schema`` at ``path``: queries over GET, queries and mutations over POST (JSON or
    multipart uploads), subscriptions over WebSocket (``graphql-transport-ws``), and GraphiQL.

    - ``graphiql``: the in-browser IDE at ``path`` (served offline); default: on when the app is in
      debug mode, off in production.
    - ``introspection``: ``__schema``/``__type`` queries; default: on when GraphiQL is.
    - ``max_depth`` (fields nested in one another), ``max_aliases``, ``max_tokens`` (the document's
      size in GraphQL tokens, a bound on its fields and complexity) and ``max_document_size``
      (bytes) refuse oversized operations before they run.
    - ``cache_size``: documents whose parsing and validation are kept (LRU; 0 turns the caches off).
    - ``debug``: errors show their exception and traceback; default: the app's ``debug``.
    - ``uploads``: multipart requests (GraphQL multipart request spec); ``subscriptions``: the WebSocket.
    - ``origins``: pages allowed to open the WebSocket (default: the same host only).

    >>> import strawberry
    >>> from plait import Plait
    >>> @strawberry.type
    ... class Query:
    ...     @strawberry.field
    ...     def hello(self) -> str:
    ...         return "world"
    >>> app = Plait()
    >>> gql = app.install(GraphQL(strawberry.Schema(query=Query), path="/graphql"))
    >>> from plait.testing import TestClient
    >>> with TestClient(app) as client:
    ...     client.post("/graphql", json={"query": "{ hello }"}).json()
    {'data': {'hello': 'world'}}
    """

    name = "graphql"

    def __init__(
        self,
        schema: Schema,
        path: str = "/graphql",
        *,
        graphiql: bool | None = None,
        introspection: bool | None = None,
        max_depth: int = 12,
        max_aliases: int = 15,
        max_tokens: int = 2000,
        max_document_size: int = 100_000,
        uploads: bool = True,
        subscriptions: bool = True,
        origins: Sequence[str] | None = None,
        connection_init_wait: float = 10.0,
        cache_size: int = 256,
        debug: bool | None = None,
    ) -> None:
        if not isinstance(schema, Schema):
            raise ConfigurationError(f"GraphQL() takes a strawberry.Schema; got {schema!r}.")
        if not path.startswith("/"):
            raise ConfigurationError(f"GraphQL(path={path!r}): the path starts with '/', as in '/graphql'.")
        for option, value in (("max_depth", max_depth), ("max_aliases", max_aliases), ("max_tokens", max_tokens)):
            if value < 1:
                raise ConfigurationError(f"GraphQL({option}={value}) must be at least 1.")
        self.schema = schema
        self.path = path
        self._graphiql = graphiql
        self._introspection = introspection
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_tokens = max_tokens
        self.max_document_size = max_document_size
        self.uploads = uploads
        self.subscriptions = subscriptions
        self.origins = frozenset(origins) if origins is not None else None
        self.connection_init_wait = connection_init_wait
        self.cache_size = cache_size
        self._debug = debug
        self.debug = bool(debug)
        self.graphiql = False
        self.introspection = True
        self.assets: GraphiQLAssets | None = None
        self._executor: Executor | None = None
        self._app: Plait[Any] | None = None

    # -- startup ------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        self._app = app
        self.debug = app.debug if self._debug is None else self._debug
        self.graphiql = app.debug if self._graphiql is None else self._graphiql
        self.introspection = self.graphiql if self._introspection is None else self._introspection
        self._install_limits()
        if self.graphiql:
            self.assets = GraphiQLAssets(self.path, subscriptions=self.subscriptions)
        self._executor = Executor(self.schema, app.container, debug=self.debug)

    def _install_limits(self) -> None:
        """Add the limit checks and caches to the schema's extensions (replacing those of an earlier setup)."""
        kept = tuple(ext for ext in self.schema.extensions if not getattr(ext, _LIMITS, False))
        # The validation rules are made once, so that the validation cache sees the same rules on
        # every request (the limiters would make new rule classes per request, defeating it).
        rules = [
            *MaxAliasesLimiter(max_alias_count=self.max_aliases).validation_rules,
            # Introspection is bounded by the token limit and switched by `introspection`; GraphiQL's
            # own introspection query nests deeper than any sensible depth limit.
            *QueryDepthLimiter(max_depth=self.max_depth, should_ignore=_introspection_field).validation_rules,
        ]
        if not self.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        size = self.cache_size
        limits: list[Callable[[], Any]] = [lambda: MaxTokensLimiter(max_token_count=self.max_tokens)]
        if size:
            # PERF: a client sends the same few documents again and again; parsing and validating
            # them is a large share of a small query's cost. Both caches are bounded (LRU).
            limits += [lambda: ParserCache(maxsize=size), lambda: ValidationCache(maxsize=size)]
        limits.append(lambda: AddValidationRules(rules))
        for factory in limits:
            setattr(factory, _LIMITS, True)
        self.schema.extensions = (*kept, *limits)

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            raise ConfigurationError(
                "The GraphQL extension is not set up yet: install it with app.install(GraphQL(...))."
            )
        return self._executor

    @property
    def container(self) -> Any:
        return self.executor.container

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._compile_resolvers(app)

    @contextlib.asynccontextmanager
    async def _compile_resolvers(self, app: Plait[Any]) -> AsyncIterator[None]:
        # Every @inject resolver's dependencies are compiled now, with every extension's providers
        # known, so a mistake (an unknown annotation) fails the startup rather than a request.
        for spec in _injections(self.schema):
            app.container.plan_for(spec.provider)
        yield

    # -- serving ------------------------------------------------------------------------------------

    def routers(self) -> Sequence[Router]:
        router = Router()

        async def graphql_http(request: Request) -> Response:
            return await handle(self, request)

        # Why exempt from plait.csrf: this endpoint refuses what a page on another site can send
        # without a CORS preflight (form and text/plain bodies; multipart needs a custom header), and
        # GET runs queries only; a CSRF token would only break GraphiQL and API clients.
        graphql_http.__plait_csrf_exempt__ = True  # type: ignore[attr-defined]
        router.add_route(self.path, graphql_http, ("GET", "POST"), include_in_schema=False, name="graphql")
        if self.graphiql:
            router.add_route(
                f"{self.path.rstrip('/')}/graphiql/{{name}}", self._asset, include_in_schema=False, name="graphiql"
            )
        if self.subscriptions:
            router.add_websocket_route(self.path, self._websocket, name="graphql_ws")
        return [router]

    async def _asset(self, name: str) -> Response:
        assert self.assets is not None  # the route exists only when GraphiQL is on
        return self.assets.asset(name)

    async def _websocket(self, ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        # Why: browsers send cookies with a WebSocket handshake from any site; without this check a
        # page elsewhere could subscribe as the logged-in user (cross-site WebSocket hijacking).
        if origin is not None and not self._origin_allowed(origin, ws.headers.get("host", "")):
            await ws.close(4403, "Forbidden origin")
            return
        await serve(self, ws)

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if self.origins is not None:
            return origin in self.origins
        return origin.split("://", 1)[-1] == host

    def wants_graphiql(self, request: Request) -> bool:
        return self.assets is not None and "text/html" in request.headers.get("accept", "")

    def graphiql_page(self, request: Request) -> Response:
        assert self.assets is not None
        return HTMLResponse(self.assets.page)

    def commands(self) -> Sequence[click.Command]:
        from plait.graphql.cli import graphql_group

        return [graphql_group]


def _introspection_field(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


def _injections(schema: Schema) -> Iterator[Any]:
    """The :func:`~plait.graphql.inject` resolvers of every field of ``schema``."""
    for definition in schema.schema_converter.type_map.values():
        for field in getattr(definition.definition, "fields", ()):
            resolver = getattr(field, "base_resolver", None)
            spec = injection(resolver.wrapped_func) if resolver is not None else None
            if spec is not None:
                yield spec

"""The context of one GraphQL operation, and resolvers that take Plait dependencies.

Every resolver gets ``info.context``, a :class:`GraphQLContext`: the HTTP request (or the
WebSocket), the app, per-request DataLoaders and a dependency solver shared by every resolver of
the operation, so that ``db: AsyncSession`` is one session for the whole operation, committed
when it succeeds (rolled back when a mutation fails) before the response is sent.

:func:`inject` lets a resolver declare dependencies exactly like a handler::

    @strawberry.type
    class Query:
        @strawberry.field
        @inject
        async def me(self, user: CurrentUser, db: AsyncSession) -> UserType: ...

        @strawberry.mutation
        @inject(dependencies=[requires("articles.delete")])
        async def purge(self, id: int, db: AsyncSession) -> bool: ...

Parameters whose annotation is a GraphQL type (scalars, enums, Strawberry types and inputs, lists
and optionals of them, ``Upload``) stay GraphQL arguments; the others (a ``Depends`` marker, a
class such as ``AsyncSession``, ``Request`` or ``Settings``, an extension's provided type) are
resolved by Plait's dependency injection, compiled once per resolver. A 401 or 403 raised by a
dependency (``CurrentUser``, ``requires(...)``) becomes a GraphQL error with ``extensions.code``
``UNAUTHENTICATED`` or ``FORBIDDEN``, not a 500.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import functools
import inspect
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar, overload

import anyio
import strawberry
from strawberry.file_uploads import Upload
from strawberry.types.base import StrawberryType

from plait.di.container import Container, Solver
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.graphql.errors import coded_error
from plait.requests import HTTPConnection

F = TypeVar("F", bound=Callable[..., Any])
_SCALARS = (str, int, float, bool, decimal.Decimal, uuid.UUID, dt.datetime, dt.date, dt.time, Upload)
_PLAN_ATTRIBUTE = "__plait_graphql_inject__"


class GraphQLContext:
    """``info.context`` for one operation: ``request``, ``app``, ``loaders`` and Plait's dependency solver."""

    def __init__(self, connection: HTTPConnection, container: Container, stack: contextlib.AsyncExitStack) -> None:
        self.request = connection
        self.app = connection.app
        self.container = container
        self.solver = Solver(container, connection, stack)  # type: ignore[arg-type]
        self.loaders: dict[Any, Any] = {}
        """DataLoaders made for this operation, by key (see :mod:`plait.graphql.loaders`)."""
        # Strawberry resolves sibling fields concurrently; Plait's per-request cache must not open two
        # sessions because two resolvers asked for one at the same moment, and one AsyncSession must
        # not run two statements at once.
        self.di_lock = anyio.Lock()
        self.failed = False
        self.connection_params: dict[str, Any] = {}
        """The ``connection_init`` payload of a WebSocket (tokens a browser cannot put in headers)."""
        """Set when the operation had errors: its database session then rolls back."""
        self.db_lock = anyio.Lock()

    async def resolve(self, spec: _Injection) -> dict[str, Any]:
        """The values of the dependency parameters ``spec`` describes (an :func:`inject` resolver's)."""
        plan = self.container.plan_for(spec.provider)
        async with self.di_lock:
            try:
                return await self.solver.arguments(plan)
            except HTTPException as exc:
                raise coded_error(exc) from None

    async def session(self) -> Any:
        """The operation's ``AsyncSession`` (the same one every resolver gets)."""
        return (await self.resolve(_session_need()))["db"]


def injection(fn: Any) -> _Injection | None:
    """What :func:`inject` recorded about ``fn`` (None for a plain resolver)."""
    found: _Injection | None = getattr(fn, _PLAN_ATTRIBUTE, None)
    return found


class _Injection:
    __slots__ = ("names", "provider")

    def __init__(self, provider: Callable[..., Any], names: tuple[str, ...]) -> None:
        self.provider = provider
        self.names = names


@overload
def inject(fn: F, /) -> F: ...
@overload
def inject(*, dependencies: Sequence[Depends] = ()) -> Callable[[F], F]: ...
def inject(fn: Any = None, /, *, dependencies: Sequence[Depends] = ()) -> Any:
    """Resolve a resolver's non-GraphQL parameters with Plait's dependency injection (see the module doc).

    ``dependencies`` run first and their values are dropped (permission checks such as
    ``requires("articles.change")``).

    >>> import strawberry
    >>> from plait.requests import Request
    >>> @inject
    ... async def hello(name: str, request: Request) -> str:
    ...     return f"hello {name} from {request.client}"
    >>> list(inspect.signature(hello).parameters)
    ['name', 'info']
    """
    if fn is None:
        return functools.partial(_wrap, dependencies=tuple(dependencies))
    return _wrap(fn, dependencies=tuple(dependencies))


def _wrap(fn: Callable[..., Any], *, dependencies: tuple[Depends, ...]) -> Any:
    streams = inspect.isasyncgenfunction(fn)
    if not (streams or inspect.iscoroutinefunction(fn)):
        raise ConfigurationError(f"@inject needs an async def resolver; {fn.__qualname__} is not one.")
    signature = inspect.signature(fn)
    namespace: dict[str, Any] = getattr(fn, "__globals__", {})  # where the annotations were written
    graphql_params: list[inspect.Parameter] = []
    injected: list[inspect.Parameter] = []
    info_name = None
    for param in signature.parameters.values():
        annotation = _evaluate(param.annotation, namespace)
        if _is_info(annotation):
            info_name = param.name
        if _is_graphql(annotation) or param.name in ("self", "root"):
            graphql_params.append(param)
        else:
            injected.append(param.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
    guards = [
        inspect.Parameter(f"_plait_guard_{i}", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, dep])
        for i, dep in enumerate(dependencies)
    ]
    names = tuple(p.name for p in injected)
    spec = _Injection(_provider(fn, [*guards, *injected]), names)
    needs_info = info_name is None
    info_param = info_name or "info"
    if needs_info:
        graphql_params.append(inspect.Parameter(info_param, inspect.Parameter.KEYWORD_ONLY, annotation=strawberry.Info))

    async def arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
        context = kwargs[info_param].context
        if not isinstance(context, GraphQLContext):
            raise ConfigurationError("@inject resolvers run under plait.graphql.GraphQL, which sets info.context.")
        values = await context.resolve(spec)
        if needs_info:
            del kwargs[info_param]
        kwargs.update((name, values[name]) for name in names)
        return kwargs

    async def call(*args: Any, **kwargs: Any) -> Any:
        kwargs = await arguments(kwargs)
        try:
            return await fn(*args, **kwargs)
        except HTTPException as exc:
            raise coded_error(exc) from None

    async def stream(*args: Any, **kwargs: Any) -> Any:
        kwargs = await arguments(kwargs)
        try:
            async for item in fn(*args, **kwargs):
                yield item
        except HTTPException as exc:
            raise coded_error(exc) from None

    resolver: Any = stream if streams else call
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
        setattr(resolver, attribute, getattr(fn, attribute))
    resolver.__signature__ = signature.replace(parameters=_ordered(graphql_params))
    resolver.__annotations__ = {p.name: p.annotation for p in graphql_params} | {"return": signature.return_annotation}
    setattr(resolver, _PLAN_ATTRIBUTE, spec)
    return resolver


def _ordered(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    kinds = sorted(params, key=lambda p: p.kind)
    # A parameter with a default before one without is only legal as keyword-only.
    return [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.name not in ("self", "root") else p for p in kinds]


def _provider(fn: Callable[..., Any], params: list[inspect.Parameter]) -> Callable[..., Any]:
    """A stand-in whose signature holds only the dependency parameters: what Plait compiles a plan for."""

    async def dependencies(**values: Any) -> dict[str, Any]:  # pragma: no cover - never called, only planned
        return values

    dependencies.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    dependencies.__annotations__ = {p.name: p.annotation for p in params}
    dependencies.__name__ = dependencies.__qualname__ = f"{fn.__qualname__}[dependencies]"
    dependencies.__module__ = fn.__module__
    return dependencies


def _evaluate(annotation: Any, namespace: dict[str, Any]) -> Any:
    """An annotation written as a string, evaluated when it can be (a forward reference stays a string)."""
    if isinstance(annotation, str):
        try:
            return eval(annotation, namespace)  # noqa: S307 - the module's own annotation text
        except Exception:
            return annotation
    return annotation


def _is_info(annotation: Any) -> bool:
    base = typing.get_origin(annotation) or annotation
    return base is strawberry.Info


def _is_graphql(annotation: Any) -> bool:
    """True when ``annotation`` is something GraphQL can take as an argument (or a reserved parameter)."""
    if annotation is inspect.Parameter.empty or isinstance(annotation, str | typing.ForwardRef):
        return True
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        if any(isinstance(meta, Depends) for meta in annotation.__metadata__):
            return False
        return _is_graphql(annotation.__origin__)
    if origin in (typing.Union, types.UnionType):
        return all(_is_graphql(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, Sequence, tuple):
        return all(_is_graphql(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)
    if origin is not None:
        return _is_info(annotation) or hasattr(origin, "__strawberry_definition__")
    if annotation in _SCALARS or annotation is strawberry.Info or isinstance(annotation, StrawberryType):
        return True
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return True
    return hasattr(annotation, "__strawberry_definition__") or hasattr(annotation, "_scalar_definition")


@functools.cache
def _session_need() -> _Injection:
    """What :meth:`GraphQLContext.session` asks Plait for (SQLAlchemy imported only when a model type needs it)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async def session(*, db: AsyncSession) -> None:  # pragma: no cover - planned, never called
        """The request's ``AsyncSession``."""

    session.__annotations__ = {"db": AsyncSession, "return": None}  # real classes, not this module's strings
    return _Injection(session, ("db",))

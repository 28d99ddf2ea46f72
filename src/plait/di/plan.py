"""Compiling a handler or provider signature into a plan, once, at startup.

A plan lists, in order, the extractors for request values and the providers to call. It is
the only place that inspects signatures; the request path only runs plans.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import msgspec

from plait.codec.types import describe, is_pydantic_type, strip_optional, unwrap_annotated
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, DependencyError
from plait.params.extractors import BodyExtractor
from plait.params.markers import REQUIRED, Param
from plait.params.metadata import for_pydantic
from plait.params.signature import AsyncExtractor, BodyField, SyncExtractor, analyze, find_marker

BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "WEBSOCKET"})
"""Methods whose requests carry no meaningful body: an unmarked ``list[str]`` there is a repeated query key."""


class CallKind(enum.Enum):
    ASYNC = "async"
    SYNC = "sync"
    ASYNC_GEN = "async generator"
    SYNC_GEN = "generator"


@dataclass(eq=False, slots=True)
class Dependency:
    """One ``Depends`` edge: the provider's plan and how its value is shared."""

    plan: CallPlan
    use_cache: bool
    scope: str


@dataclass(eq=False, slots=True)
class CallPlan:
    """What to gather, in order, before calling ``fn``."""

    fn: Callable[..., Any]
    kind: CallKind
    name: str
    sync_params: list[tuple[str, SyncExtractor]] = field(default_factory=list)
    async_params: list[tuple[str, AsyncExtractor]] = field(default_factory=list)
    body: BodyExtractor | None = None
    body_names: list[str] | None = None  # set when several parameters share one JSON object
    body_fields: list[BodyField] = field(default_factory=list)
    deps: list[tuple[str, Dependency]] = field(default_factory=list)
    context: Callable[..., Any] | None = None  # the context-manager factory for generator providers
    return_type: Any = None
    needs_exit_stack: bool = False
    needs_request: bool = False
    lists_from_query: bool = False  # compiled for a route whose methods are all BODYLESS_METHODS

    @property
    def dependencies(self) -> list[Dependency]:
        return [dep for _, dep in self.deps]


def call_kind(fn: Callable[..., Any]) -> CallKind:
    if inspect.isclass(fn):
        return CallKind.SYNC  # calling a class builds an instance, whatever its __call__ is
    target = fn if inspect.isroutine(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    if inspect.isasyncgenfunction(target):
        return CallKind.ASYNC_GEN
    if inspect.isgeneratorfunction(target):
        return CallKind.SYNC_GEN
    if inspect.iscoroutinefunction(target):
        return CallKind.ASYNC
    return CallKind.SYNC


def describe_callable(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}" if module else name


class PlanCompiler:
    """Compiles plans, sharing provider plans, and fails on cycles with the chain printed."""

    def __init__(self, max_json_depth: int = 64) -> None:
        self.max_json_depth = max_json_depth
        self._cache: dict[tuple[Callable[..., Any], frozenset[str], bool], CallPlan] = {}
        self._stack: list[Callable[..., Any]] = []
        # Annotation -> provider, filled by installed extensions at startup (``db: AsyncSession``).
        self.providers: dict[Any, Depends] = {}

    def compile(
        self,
        fn: Callable[..., Any] | None,
        path_params: frozenset[str] = frozenset(),
        methods: Collection[str] = (),
    ) -> CallPlan:
        """The plan of ``fn`` for a route with ``path_params`` answering ``methods`` (cached).

        When every method is one of ``BODYLESS_METHODS``, unmarked lists of scalars (in ``fn`` and in
        the providers it depends on) are read from repeated query keys instead of the JSON body.
        """
        if fn is None:
            raise ConfigurationError(
                "Depends() without a provider only works on an annotated parameter (the class is the provider); "
                "in dependencies=[...] write Depends(provider)."
            )
        lists_from_query = bool(methods) and BODYLESS_METHODS.issuperset(methods)
        return self._compile(fn, path_params, lists_from_query)

    def _compile(self, fn: Callable[..., Any], path_params: frozenset[str], lists_from_query: bool) -> CallPlan:
        key = (fn, path_params, lists_from_query)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if fn in self._stack:
            chain = " -> ".join(describe_callable(f) for f in [*self._stack[self._stack.index(fn) :], fn])
            raise DependencyError(f"Dependency cycle: {chain}. Break the cycle by removing one of these Depends().")
        self._stack.append(fn)
        try:
            plan = self._build(fn, path_params, lists_from_query)
        except ConfigurationError as exc:
            if len(self._stack) > 1 and "required by" not in str(exc):
                chain = " -> ".join(describe_callable(f) for f in self._stack)
                raise type(exc)(f"{exc} (required by {chain})") from None
            raise
        finally:
            self._stack.pop()
        self._cache[key] = plan
        return plan

    def _build(self, fn: Callable[..., Any], path_params: frozenset[str], lists_from_query: bool) -> CallPlan:
        owner = describe_callable(fn)
        kind = call_kind(fn)
        plan = CallPlan(fn=fn, kind=kind, name=owner, lists_from_query=lists_from_query)
        hints = _type_hints(fn, owner)
        plan.return_type = hints.get("return", None)
        if kind is CallKind.ASYNC_GEN:
            plan.context = contextlib.asynccontextmanager(fn)
        elif kind is CallKind.SYNC_GEN:
            plan.context = contextlib.contextmanager(fn)
        for param in inspect.signature(fn).parameters.values():
            self._add_param(plan, owner, param, hints.get(param.name, str), path_params)
        self._finish_body(plan, owner)
        plan.needs_exit_stack = plan.context is not None or any(d.plan.needs_exit_stack for d in plan.dependencies)
        plan.needs_request = bool(plan.sync_params or plan.async_params or plan.body) or any(
            d.plan.needs_request for d in plan.dependencies if d.scope == "request"
        )
        return plan

    def _add_param(
        self,
        plan: CallPlan,
        owner: str,
        param: inspect.Parameter,
        annotation: Any,
        path_params: frozenset[str],
    ) -> None:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            return
        where = f"{owner}: parameter {param.name!r}"
        depends: Depends | None = find_marker(annotation, param.default, Depends, where)
        if depends is not None and find_marker(annotation, param.default, Param, where) is not None:
            raise ConfigurationError(f"{where} has both Depends(...) and a request marker; keep one of them.")
        if depends is None and self.providers:
            depends = self.providers.get(unwrap_annotated(annotation)[0])
        if depends is not None:
            provider = provider_of(depends, annotation, where)
            app_scoped = depends.scope == "app"
            sub = self._compile(provider, frozenset() if app_scoped else path_params, plan.lists_from_query)
            if depends.scope == "app" and sub.needs_request:
                raise DependencyError(
                    f"{owner}: app-scoped provider {sub.name} reads the request; an app-lifetime value is made "
                    "once at startup, so drop scope='app' or remove its request parameters."
                )
            plan.deps.append((param.name, Dependency(sub, depends.use_cache, depends.scope)))
            return
        found = analyze(owner, param, annotation, path_params, lists_from_query=plan.lists_from_query)
        if found.sync is not None:
            plan.sync_params.append((param.name, found.sync))
        elif found.async_ is not None:
            plan.async_params.append((param.name, found.async_))
        elif found.body is not None:
            plan.body_fields.append(found.body)

    def _finish_body(self, plan: CallPlan, owner: str) -> None:
        fields = plan.body_fields
        if not fields:
            return
        if plan.async_params:
            raise ConfigurationError(f"{owner}: a handler cannot read both a JSON body and form fields; choose one.")
        if len(fields) == 1 and not fields[0].embed:
            plan.body = BodyExtractor(fields[0].tp, fields[0].default, self.max_json_depth)
            return
        name = f"{owner.rsplit('.', 1)[-1]}Body"
        combined: Any
        if any(is_pydantic_type(f.tp) for f in fields):
            combined = _pydantic_body(owner, name, fields)
        else:
            spec = [(f.name, f.tp) if f.default is REQUIRED else (f.name, f.tp, f.default) for f in fields]
            rename = {f.name: f.key for f in fields}
            combined = msgspec.defstruct(name, spec, kw_only=True, rename=rename)
        # When every member has a default, a missing body means "all defaults", as for a single parameter.
        default = REQUIRED if any(f.default is REQUIRED for f in fields) else combined()
        plan.body = BodyExtractor(combined, default, self.max_json_depth)
        plan.body_names = [f.name for f in fields]


def _pydantic_body(owner: str, name: str, fields: list[BodyField]) -> Any:
    """One pydantic model holding every body parameter, so each is validated (and reported) by pydantic."""
    import pydantic

    members: Any = {
        f.name: (for_pydantic(f.tp), pydantic.Field(... if f.default is REQUIRED else f.default, alias=f.key))
        for f in fields
    }
    try:
        return pydantic.create_model(name, **members)
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, NameError, TypeError) as exc:
        raise ConfigurationError(
            f"{owner}: its body parameters cannot be merged into one pydantic model ({exc}); a pydantic model "
            "and a msgspec Struct cannot share a body: make them all pydantic models (or all Structs)."
        ) from None


def provider_of(depends: Depends, annotation: Any, where: str) -> Callable[..., Any]:
    """The callable ``depends`` stands for: its argument, or (``Depends()``) the annotated class."""
    if depends.dependency is not None:
        return depends.dependency
    base, _ = strip_optional(unwrap_annotated(annotation)[0])
    if isinstance(base, type) and base.__module__ != "builtins":
        return base
    raise ConfigurationError(
        f"{where} uses Depends() with no provider, so its annotation must be the class to build, "
        f"but it is {describe(base)}; write Depends(provider) or annotate the parameter with the class."
    )


def _type_hints(fn: Callable[..., Any], owner: str) -> dict[str, Any]:
    target = fn if inspect.isroutine(fn) or inspect.isclass(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    fields: dict[str, Any] = {}
    if inspect.isclass(target):
        # Structs and pydantic models declare their parameters as class annotations, not on __init__.
        with contextlib.suppress(Exception):
            fields = typing.get_type_hints(target, include_extras=True)
        target = target.__init__
    try:
        return {**fields, **typing.get_type_hints(target, include_extras=True)}
    except NameError as exc:
        raise ConfigurationError(
            f"{owner}: an annotation names something Plait cannot find ({exc}); import the type at module level."
        ) from None


def compile_plan(
    fn: Callable[..., Any], path_params: frozenset[str] = frozenset(), methods: Collection[str] = ()
) -> CallPlan:
    """Compile one callable on its own (a fresh compiler, no shared cache)."""
    return PlanCompiler().compile(fn, path_params, methods)

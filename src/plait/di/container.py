"""Resolving plans: per request (``Solver``) and for the whole app (``Container``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

import anyio

from plait.concurrency import ThreadPool
from plait.di.plan import BODYLESS_METHODS, CallKind, CallPlan, Dependency, PlanCompiler
from plait.exceptions import DependencyError, RequestValidationError
from plait.params.extractors import received_body
from plait.requests import Request


class Container:
    """The app's dependency container: overrides, app-lifetime values, the thread pool.

    Usable outside HTTP, for CLI commands and background jobs::

        async def report(db: Annotated[Database, Depends(get_db)]) -> int: ...
        count = await app.container.call(report)
    """

    def __init__(self, pool: ThreadPool | None = None, compiler: PlanCompiler | None = None) -> None:
        self.pool = pool or ThreadPool()
        self.compiler = compiler or PlanCompiler()
        self.overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.app_values: dict[Callable[..., Any], Any] = {}
        self._app_stack: contextlib.AsyncExitStack | None = None
        self._app_locks: dict[Callable[..., Any], anyio.Lock] = {}

    def plan_for(
        self, fn: Callable[..., Any], path_params: frozenset[str] = frozenset(), methods: Collection[str] = ()
    ) -> CallPlan:
        return self.compiler.compile(fn, path_params, methods)

    async def start(self, plans: list[CallPlan]) -> None:
        """Create every app-scoped value the given plans use (called from the lifespan)."""
        for plan in plans:
            for dep in _walk_app_deps(plan):
                await self.app_value(dep)

    async def stop(self) -> None:
        """Run the cleanup of app-scoped generator providers, newest first."""
        stack, self._app_stack = self._app_stack, None
        self.app_values.clear()
        self._app_locks.clear()
        if stack is not None:
            await stack.aclose()

    async def app_value(self, dep: Dependency) -> Any:
        fn = dep.plan.fn
        if fn in self.app_values:
            return self.app_values[fn]
        # One lock per provider: an app-scoped provider may itself need another app-scoped value.
        lock = self._app_locks.get(fn)
        if lock is None:
            lock = self._app_locks[fn] = anyio.Lock()
        async with lock:
            if fn not in self.app_values:
                if self._app_stack is None:
                    self._app_stack = contextlib.AsyncExitStack()
                override = self.overrides.get(fn)
                plan = self.plan_for(override) if override is not None else dep.plan
                solver = Solver(self, None, self._app_stack)
                self.app_values[fn] = await solver.run(plan)
        return self.app_values[fn]

    async def call(self, fn: Callable[..., Any], /, **values: Any) -> Any:
        """Call ``fn`` with its dependencies resolved, outside any HTTP request.

        Keyword ``values`` fill parameters directly; providers' cleanup runs before this returns.
        """
        plan = self.plan_for(fn)
        async with contextlib.AsyncExitStack() as stack:
            solver = Solver(self, None, stack)
            kwargs = await solver.arguments(plan, skip=values.keys())
            kwargs.update(values)
            return await solver.invoke(plan, kwargs)


def _walk_app_deps(plan: CallPlan) -> list[Dependency]:
    found: list[Dependency] = []
    for dep in plan.dependencies:
        found.extend(_walk_app_deps(dep.plan))
        if dep.scope == "app":
            found.append(dep)
    return found


class Solver:
    """Resolves plans for one request: caches shared providers, collects every validation error."""

    __slots__ = ("cache", "container", "request", "stack")

    def __init__(self, container: Container, request: Request | None, stack: contextlib.AsyncExitStack | None) -> None:
        self.container = container
        self.request = request
        self.stack = stack
        self.cache: dict[Callable[..., Any], Any] = {}

    async def run(self, plan: CallPlan) -> Any:
        return await self.invoke(plan, await self.arguments(plan))

    async def arguments(self, plan: CallPlan, skip: Any = ()) -> dict[str, Any]:
        """Gather the keyword arguments of ``plan``; raise one 422 holding every error."""
        kwargs: dict[str, Any] = {}
        errors = []
        request = self.request
        if request is None and _reads_request(plan, skip):
            raise DependencyError(
                f"{plan.name} reads the HTTP request, but it was called outside one; "
                "pass those values by keyword to container.call() or split the provider."
            )
        for name, extractor in plan.sync_params:
            if name in skip:
                continue
            try:
                kwargs[name] = extractor.extract(request)  # type: ignore[arg-type]
            except RequestValidationError as exc:
                errors.extend(exc.details)
        for name, dep in plan.deps:
            if name in skip:
                continue
            try:
                kwargs[name] = await self.resolve(dep)
            except RequestValidationError as exc:
                errors.extend(exc.details)
        if plan.body is not None and not _body_given(plan, skip):
            try:
                await self._body(plan, request, kwargs)  # type: ignore[arg-type]
            except RequestValidationError as exc:
                errors.extend(exc.details)
        for name, async_extractor in plan.async_params:
            if name in skip:
                continue
            try:
                kwargs[name] = await async_extractor.extract(request)  # type: ignore[arg-type]
            except RequestValidationError as exc:
                errors.extend(exc.details)
        if errors:
            # A provider shared by several others fails once per use; report each error once.
            raise RequestValidationError(list(dict.fromkeys(errors)), body=received_body(request))
        return kwargs

    async def _body(self, plan: CallPlan, request: Request, kwargs: dict[str, Any]) -> None:
        value = await plan.body.extract(request)  # type: ignore[union-attr]
        if plan.body_names is None:
            kwargs[plan.body_fields[0].name] = value
        else:
            for name in plan.body_names:
                kwargs[name] = getattr(value, name)

    async def resolve(self, dep: Dependency) -> Any:
        if dep.scope == "app":
            return await self.container.app_value(dep)
        plan = dep.plan
        overrides = self.container.overrides
        if overrides and plan.fn in overrides:
            path_params = frozenset(self.request.path_params) if self.request is not None else frozenset()
            # The replacement reads lists where the provider it replaces did (query or body).
            methods = BODYLESS_METHODS if plan.lists_from_query else ()
            plan = self.container.plan_for(overrides[plan.fn], path_params, methods)
        if dep.use_cache and plan.fn in self.cache:
            return self.cache[plan.fn]
        kwargs = await self.arguments(plan)
        # PERF: the commonest provider, a plain coroutine function, is awaited here directly.
        value = await plan.fn(**kwargs) if plan.kind is CallKind.ASYNC else await self.invoke(plan, kwargs)
        if dep.use_cache:
            self.cache[plan.fn] = value
        return value

    async def invoke(self, plan: CallPlan, kwargs: Mapping[str, Any]) -> Any:
        kind = plan.kind
        if kind is CallKind.ASYNC:
            return await plan.fn(**kwargs)
        if kind is CallKind.SYNC:
            return await self.container.pool.run(plan.fn, **kwargs)
        if self.stack is None:
            raise DependencyError(f"{plan.name} is a generator provider and needs a cleanup scope.")
        manager = plan.context(**kwargs)  # type: ignore[misc]
        if kind is CallKind.ASYNC_GEN:
            return await self.stack.enter_async_context(manager)
        value = await self.container.pool.run(manager.__enter__)
        self.stack.push_async_exit(_sync_exit(self.container.pool, manager))
        return value


def _body_names(plan: CallPlan) -> list[str]:
    return plan.body_names if plan.body_names is not None else [f.name for f in plan.body_fields]


def _body_given(plan: CallPlan, given: Any) -> bool:
    """True when the caller passed every body parameter itself (``container.call``)."""
    return bool(given) and all(name in given for name in _body_names(plan))


def _reads_request(plan: CallPlan, given: Any) -> bool:
    """True when ``plan`` itself still has request values to extract once ``given`` names are filled."""
    if any(name not in given for name, _ in plan.sync_params):
        return True
    if any(name not in given for name, _ in plan.async_params):
        return True
    return plan.body is not None and not _body_given(plan, given)


def _sync_exit(pool: ThreadPool, manager: Any) -> Callable[..., Any]:
    async def exit_(*exc_info: Any) -> bool:
        return bool(await pool.run(manager.__exit__, *exc_info))

    return exit_

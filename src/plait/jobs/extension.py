"""The :class:`Jobs` extension: declare jobs on it, enqueue them from handlers, run them in ``plait worker``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar, overload

import msgspec
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, InMemoryBroker

from plait.di.markers import Depends
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.jobs.brokers import KEEP_RESULT, KeptResults, StreamBroker
from plait.jobs.job import Job, JobsUnavailable
from plait.jobs.requests import AfterCommit
from plait.requests import Request
from plait.routing.router import WEBSOCKET, ExceptionHandler, ExceptionKey

if TYPE_CHECKING:
    import click

    from plait._types import ASGIApp
    from plait.app import CompiledRoute, Plait

R = TypeVar("R")

Seconds = Annotated[float, msgspec.Meta(gt=0)]


class JobsSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Read from ``PLAIT_JOBS_*`` variables.

    >>> JobsSettings().jobs_queue
    'plait:jobs'
    """

    jobs_url: str = ""
    """``redis://host:6379/0``: jobs go to a Redis stream for ``plait worker``; empty: they run in this process."""
    jobs_queue: str = "plait:jobs"
    """The stream's key in Redis (results are stored under ``<queue>:result:<id>``)."""
    jobs_redelivery_timeout: Seconds = 600.0
    """Seconds a job may stay unacknowledged (its worker died) before another worker takes it; keep it
    above your longest job, or that job runs twice."""
    jobs_result_ttl: Annotated[int, msgspec.Meta(ge=1)] = 86400
    """Seconds a result (jobs declared with ``result=True``) is kept in Redis."""
    jobs_timeout: Seconds = 3.0
    """Seconds to wait for Redis (connecting, enqueueing, reading a result) before counting it as down:
    ``enqueue`` then raises ``JobsUnavailable`` (a 503) instead of holding the request."""


class Jobs(Extension):
    """Background jobs on taskiq: ``@jobs.job(retries=3, timeout=30)``, ``await job.enqueue(...)``.

    With no broker given, ``PLAIT_JOBS_URL`` chooses: taskiq-redis's Redis Streams (acknowledged,
    at-least-once) when set, else taskiq's in-process broker, which runs each job as a task of the
    app's own process (development and tests). A handler parameter annotated ``Jobs`` gets this
    extension.

    >>> import anyio
    >>> from plait import Plait
    >>> jobs = Jobs()
    >>> @jobs.job(result=True)
    ... async def add(a: int, b: int) -> int:
    ...     return a + b
    >>> app = Plait(extensions=[jobs])
    >>> async def demo() -> int:
    ...     async with app.running():
    ...         handle = await add.enqueue(2, 3)
    ...         return await handle.result()
    >>> anyio.run(demo)
    5
    """

    name = "jobs"
    settings_type = JobsSettings

    def __init__(self, broker: AsyncBroker | None = None) -> None:
        self._given = broker
        self.broker: AsyncBroker = broker if broker is not None else _memory_broker()
        self.jobs: dict[str, Job[Any]] = {}
        self._app: Plait[Any] | None = None
        self._tasks: dict[str, AsyncTaskiqDecoratedTask[Any, Any]] = {}
        self._database: Any = None
        self.broker_running = False
        """True while the app's lifespan has the broker started (enqueueing works only then)."""

    @property
    def app(self) -> Plait[Any]:
        if self._app is None:
            raise ConfigurationError("These jobs belong to no app yet: install them with app.install(jobs).")
        return self._app

    # -- declaring ----------------------------------------------------------------------------------

    @overload
    def job(self, fn: Callable[..., Awaitable[R]], /) -> Job[R]: ...
    @overload
    def job(self, fn: Callable[..., R], /) -> Job[R]: ...
    @overload
    def job(
        self,
        *,
        name: str | None = None,
        retries: int = 0,
        timeout: float | None = None,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
        schedule: str | Sequence[str] = (),
        every: int | None = None,
        result: bool = False,
    ) -> _Declare: ...
    def job(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        retries: int = 0,
        timeout: float | None = None,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
        schedule: str | Sequence[str] = (),
        every: int | None = None,
        result: bool = False,
    ) -> Any:
        """Declare a job (``@jobs.job`` or ``@jobs.job(...)``).

        ``retries`` more attempts after a failure, ``backoff * 2**n`` seconds apart (with jitter, at
        most ``max_backoff``); ``timeout`` seconds per attempt; ``schedule`` one cron expression or
        several (``"*/5 * * * *"``, UTC) and ``every`` a period in whole seconds, sent by
        ``plait scheduler``; ``result=True`` keeps the return
        value for ``await handle.result()``. Only async jobs take a ``timeout`` (a thread
        cannot be interrupted). Jobs are declared on the extension, not in a global
        registry, so two apps in one process never share jobs and ``plait worker`` runs exactly the
        jobs of the app it loaded.
        """

        def declare(fn: Callable[..., Any]) -> Job[Any]:
            declared: Job[Any] = Job(
                self,
                fn,
                name=name or f"{fn.__module__}:{fn.__qualname__}",
                retries=_at_least(0, retries, "retries"),
                timeout=timeout,
                backoff=backoff,
                max_backoff=max_backoff,
                schedule=[schedule] if isinstance(schedule, str) else list(schedule),
                every=every if every is None else _at_least(1, every, "every"),
                result=result,
            )
            if declared.name in self.jobs:
                raise ConfigurationError(f"A job named {declared.name!r} is already declared; pass name='...'.")
            self.jobs[declared.name] = declared
            self._register(declared)
            return declared

        return declare(fn) if fn is not None else declare

    def _register(self, job: Job[Any]) -> None:
        async def run(**payload: Any) -> Any:
            return await job.run(payload)

        run.__name__ = run.__qualname__ = job.name
        labels: dict[str, Any] = {KEEP_RESULT: job.keep_result}
        schedules: list[dict[str, Any]] = [{"cron": cron} for cron in job.schedule]
        if job.every is not None:
            schedules.append({"interval": job.every})
        if schedules:
            labels["schedule"] = [{**entry, "schedule_id": f"{job.name}#{n}"} for n, entry in enumerate(schedules)]
        self._tasks[job.name] = self.broker.register_task(run, task_name=job.name, **labels)

    def task_for(self, job: Job[Any]) -> AsyncTaskiqDecoratedTask[Any, Any]:
        """The taskiq task behind ``job`` (checks that the app is running)."""
        if not self.broker_running:
            raise ConfigurationError(
                f"Cannot enqueue {job.name!r}: jobs are sent only while the app runs (a handler, a lifespan, "
                "`async with app.running():`, a TestClient block) and after app.install(jobs)."
            )
        return self._tasks[job.name]

    # -- the extension protocol ---------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        self._app = app
        settings: JobsSettings = self.settings
        if self._given is None and settings.jobs_url:
            self._move_to(_redis_broker(settings))
        names = [ext.name for ext in app.extensions]
        if "database" in names:
            if names.index("database") > names.index(self.name):
                raise ConfigurationError(
                    "Install Jobs after Database (Plait(extensions=[Database(), Jobs()])): enqueue_after_commit() "
                    "must see the response after the database has committed."
                )
            self._database = app.extensions["database"]

    def _move_to(self, broker: AsyncBroker) -> None:
        """Use ``broker`` for the jobs already declared on the default one."""
        self.broker = broker
        for job in self.jobs.values():
            self._register(job)

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        await self.broker.startup()
        self.broker_running = True
        try:
            yield
        finally:
            self.broker_running = False
            if isinstance(self.broker, InMemoryBroker):
                # Jobs run in this process: let those still running finish while the database (installed
                # earlier, so closed later) is still open, rather than dropping them at shutdown.
                await self.broker.wait_all()
            await self.broker.shutdown()

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        return {JobsUnavailable: broker_unavailable}

    def providers(self) -> Mapping[Any, Depends]:
        return {Jobs: Depends(self._self)}

    def _self(self) -> Jobs:
        return self

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        """Routes using the database session hold ``enqueue_after_commit`` jobs until it has committed."""
        database = self._database
        if database is None or WEBSOCKET in route.placed.route.methods:
            return endpoint
        from plait.db.sessions import uses

        plans = (route.plan, *route.guards)
        providers = (database.session, database.sync_session)
        if not any(uses(plan, provider) for plan in plans for provider in providers):
            return endpoint  # PERF: a route without a transaction has nothing to wait for
        return AfterCommit(endpoint)

    def commands(self) -> Sequence[click.Command]:
        from plait.jobs.cli import scheduler, worker

        return [worker, scheduler]


class _Declare(Protocol):
    """What ``@jobs.job(...)`` returns: the decorator."""

    @overload
    def __call__(self, fn: Callable[..., Awaitable[R]], /) -> Job[R]: ...
    @overload
    def __call__(self, fn: Callable[..., R], /) -> Job[R]: ...


def _at_least(minimum: int, value: int, name: str) -> int:
    if value < minimum:
        raise ConfigurationError(f"{name}={value!r} must be at least {minimum}.")
    return value


def _memory_broker() -> InMemoryBroker:
    broker = InMemoryBroker()
    broker.result_backend = KeptResults(broker.result_backend)  # type: ignore[assignment]
    return broker


def _redis_broker(settings: JobsSettings) -> StreamBroker:
    from taskiq.serializers import JSONSerializer
    from taskiq_redis import RedisAsyncResultBackend

    broker = StreamBroker(
        settings.jobs_url,
        queue_name=settings.jobs_queue,
        redelivery_timeout=settings.jobs_redelivery_timeout,
        timeout=settings.jobs_timeout,
    )
    # JSON, not taskiq-redis's default pickle: reading a result must never run code stored in Redis.
    results: Any = RedisAsyncResultBackend(
        settings.jobs_url,
        result_ex_time=settings.jobs_result_ttl,
        prefix_str=f"{settings.jobs_queue}:result",
        serializer=JSONSerializer(),
        socket_connect_timeout=settings.jobs_timeout,
        socket_timeout=settings.jobs_timeout,
    )
    broker.with_result_backend(KeptResults(results))
    return broker


def broker_unavailable(request: Request, exc: Exception) -> ProblemResponse:
    """Redis cannot be reached from a handler: a 503 the client may retry, never a 500."""
    logging.getLogger("plait.jobs").error("%s", exc)
    detail = "The job queue is unavailable: the job was not enqueued. Try again shortly."
    return ProblemResponse(503, detail=detail, headers={"retry-after": "1"})

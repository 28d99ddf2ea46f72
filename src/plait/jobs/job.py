"""A declared job: its typed arguments, how it is enqueued, and how a worker runs it.

A job's parameters are of two kinds, told apart the way a handler's are: **dependencies** (the
database session, settings, anything with a provider or ``Depends``), resolved in the worker, and
**arguments**, everything else, given to ``enqueue`` and checked there against their annotations
(msgspec's strict conversion), so a bad argument raises in the code that enqueued it, not later in
a worker. Arguments travel as JSON.
"""

from __future__ import annotations

import inspect
import logging
import random
import typing
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import msgspec

from plait.exceptions import ConfigurationError, PlaitError

if TYPE_CHECKING:
    from taskiq import AsyncTaskiqTask

    from plait.jobs.extension import Jobs

R = TypeVar("R")

logger = logging.getLogger("plait.jobs")

Deferred = Callable[[], typing.Awaitable[Any]]

# The enqueues waiting for the current request's (or job's) database commit; None outside one.
after_commit: ContextVar[list[Deferred] | None] = ContextVar("plait.jobs.after_commit", default=None)


class JobsError(PlaitError):
    """Base class of the job errors."""


class JobArgumentError(JobsError, TypeError):
    """``enqueue`` was given arguments that do not fit the job's parameters."""


class JobsUnavailable(JobsError):
    """The broker (Redis) cannot be reached: the job was not enqueued."""


class JobFailed(JobsError):
    """The job raised on its last attempt (the message names the original error)."""


class JobTimeout(JobsError):
    """One attempt of the job ran longer than its ``timeout``."""


class JobHandle(Generic[R]):
    """What ``enqueue`` returns: the job's id, and its result for jobs declared with ``result=True``."""

    def __init__(self, job: Job[R], task: AsyncTaskiqTask[Any]) -> None:
        self.job = job
        self.id: str = task.task_id
        self._task = task

    def __repr__(self) -> str:
        return f"<JobHandle {self.job.name} {self.id}>"

    async def result(self, timeout: float = 30.0) -> R:
        """Wait up to ``timeout`` seconds for the job to finish and return its value (raise JobFailed)."""
        if not self.job.keep_result:
            raise JobsError(
                f"Job {self.job.name!r} keeps no result; declare it with @jobs.job(result=True) to wait for one."
            )
        from taskiq.exceptions import TaskiqResultTimeoutError

        try:
            outcome = await self._task.wait_result(timeout=timeout)
        except TaskiqResultTimeoutError:
            raise TimeoutError(f"Job {self.job.name!r} ({self.id}) did not finish within {timeout} s") from None
        if outcome.is_err:
            raise JobFailed(f"Job {self.job.name!r} ({self.id}) failed: {outcome.error}")
        value: R = self.job.convert_result(outcome.return_value)
        return value


class Job(Generic[R]):
    """A function declared with ``@jobs.job(...)``; enqueue it with ``await job.enqueue(...)``."""

    def __init__(
        self,
        jobs: Jobs,
        fn: Callable[..., Any],
        *,
        name: str,
        retries: int,
        timeout: float | None,
        backoff: float,
        max_backoff: float,
        schedule: Sequence[str],
        every: int | None,
        result: bool,
    ) -> None:
        self.jobs = jobs
        self.fn = fn
        self.name = name
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.schedule = tuple(schedule)
        self.every = every
        self.keep_result = result
        self.__doc__ = fn.__doc__
        self._signature = inspect.signature(fn)
        for parameter in self._signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise ConfigurationError(
                    f"Job {name!r} takes *{parameter.name}; a job's arguments travel as JSON, so name each one."
                )
        if timeout is not None and not inspect.iscoroutinefunction(fn):
            raise ConfigurationError(
                f"Job {name!r} has a timeout but is not async: a sync job runs in a thread, which cannot be "
                "interrupted. Make it `async def`, or drop the timeout."
            )
        self._arguments: type[msgspec.Struct] | None = None
        self._accepts: inspect.Signature | None = None
        self._return: Any = Any

    def __repr__(self) -> str:
        return f"<Job {self.name}>"

    # -- arguments ----------------------------------------------------------------------------------

    def _prepare(self) -> tuple[type[msgspec.Struct], inspect.Signature]:
        """The arguments' struct and signature; dependencies are known once the app has started."""
        if self._arguments is None or self._accepts is None:
            plan = self.jobs.app.container.plan_for(self.fn)
            injected = {name for name, _ in plan.deps}
            hints = typing.get_type_hints(self.fn, include_extras=True)  # here, once forward references exist
            self._return = hints.get("return", Any)
            fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
            kept = []
            for parameter in self._signature.parameters.values():
                if parameter.name in injected:
                    continue
                kept.append(parameter)
                annotation = hints.get(parameter.name, Any)
                if parameter.default is parameter.empty:
                    fields.append((parameter.name, annotation))
                else:
                    fields.append((parameter.name, annotation, parameter.default))
            self._arguments = msgspec.defstruct(f"{self.name}:arguments", fields, kw_only=True)
            self._accepts = self._signature.replace(parameters=kept)
        return self._arguments, self._accepts

    def payload(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON-ready arguments of one call, checked against the parameters (raise JobArgumentError)."""
        struct, accepts = self._prepare()
        try:
            bound = accepts.bind(*args, **kwargs)
        except TypeError as exc:
            raise JobArgumentError(f"Job {self.name!r}: {exc} (it takes {accepts})") from None
        try:
            checked = msgspec.convert(bound.arguments, struct)
        except msgspec.ValidationError as exc:
            raise JobArgumentError(f"Job {self.name!r} got a bad argument: {exc}") from None
        data: dict[str, Any] = msgspec.to_builtins(checked)
        return data

    def arguments(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The typed keyword arguments back from a payload (in the worker)."""
        struct, _ = self._prepare()
        value = msgspec.convert(payload, struct, strict=False)
        return {name: getattr(value, name) for name in struct.__struct_fields__}

    def convert_result(self, value: Any) -> Any:
        """A stored (JSON) result back as the job's return type."""
        self._prepare()
        return msgspec.convert(value, self._return, strict=False)

    # -- enqueueing ---------------------------------------------------------------------------------

    async def enqueue(self, *args: Any, **kwargs: Any) -> JobHandle[R]:
        """Send the job to the workers now; arguments are checked here (JobArgumentError)."""
        payload = self.payload(*args, **kwargs)
        return JobHandle(self, await self._send(payload))

    async def _send(self, payload: dict[str, Any]) -> AsyncTaskiqTask[Any]:
        from taskiq.exceptions import SendTaskError

        task = self.jobs.task_for(self)
        try:
            return await task.kiq(**payload)
        except SendTaskError:
            # A pooled connection dies with a Redis restart and is noticed only when used; the pool
            # connects afresh on the next try. (Sent twice at worst, which at-least-once allows.)
            pass
        try:
            return await task.kiq(**payload)
        except SendTaskError as exc:
            raise JobsUnavailable(
                f"Could not enqueue {self.name!r}: {exc.__cause__ or exc}. Check that Redis is running and "
                "PLAIT_JOBS_URL points at it."
            ) from exc

    async def enqueue_after_commit(self, *args: Any, **kwargs: Any) -> None:
        """Enqueue once the current request's (or job's) database transaction has committed; never if it
        rolls back. Arguments are checked now."""
        deferred = after_commit.get()
        if deferred is None:
            raise JobsError(
                f"enqueue_after_commit() of {self.name!r} waits for the database commit of the current request or "
                "job, and there is none here: the route does not use the database session (call enqueue()), the "
                "Jobs extension is installed before Database (install it after), or this code runs outside a "
                "request (commit first, then call enqueue())."
            )
        payload = self.payload(*args, **kwargs)
        self.jobs.task_for(self)  # the same checks as enqueue(), now rather than after the commit
        deferred.append(lambda: self._send(payload))

    async def __call__(self, *args: Any, **kwargs: Any) -> R:
        """Run the job here and now, with its dependencies resolved (as a worker would, without retries)."""
        payload = self.payload(*args, **kwargs)
        value: R = await self.run_once(payload)
        return value

    # -- running (in the worker) --------------------------------------------------------------------

    async def run(self, payload: dict[str, Any]) -> Any:
        """Run with retries and backoff; each attempt has ``timeout`` seconds."""
        attempt = 0
        while True:
            try:
                return msgspec.to_builtins(await self.run_once(payload))
            except Exception as exc:
                if attempt >= self.retries:
                    logger.error("Job %s failed after %d attempt(s)", self.name, attempt + 1, exc_info=exc)
                    raise JobFailed(f"{type(exc).__name__}: {exc}") from exc
                delay = self.delay(attempt)
                attempt += 1
                logger.warning(
                    "Job %s failed (%s: %s); retry %d of %d in %.2f s",
                    self.name, type(exc).__name__, exc, attempt, self.retries, delay,
                )  # fmt: skip
                await anyio.sleep(delay)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: about ``backoff * 2**attempt``, at most ``max_backoff`` seconds."""
        base: float = min(self.backoff * 2**attempt, self.max_backoff)
        # Jitter keeps jobs that failed together (a database blip) from retrying in lockstep.
        return base * (0.5 + random.random() / 2)  # noqa: S311 - spreading retries, not a secret

    async def run_once(self, payload: dict[str, Any]) -> Any:
        """One attempt: dependencies resolved (the session commits when it succeeds), then the enqueues
        it deferred to after that commit."""
        kwargs = self.arguments(payload)
        deferred: list[Deferred] = []
        token = after_commit.set(deferred)
        try:
            with anyio.move_on_after(self.timeout) as deadline:
                value = await self.jobs.app.container.call(self.fn, **kwargs)
            if deadline.cancelled_caught:
                raise JobTimeout(f"Job {self.name!r} ran longer than its timeout of {self.timeout} s")
        finally:
            after_commit.reset(token)
        await flush(deferred)
        return value


async def flush(deferred: list[Deferred]) -> None:
    """Enqueue what waited for a commit; a failure is logged, since the data is committed already."""
    for send in deferred:
        try:
            await send()
        except Exception:
            logger.exception("A job deferred to after the commit could not be enqueued")

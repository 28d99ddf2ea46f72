"""Jobs on the in-process broker: typed arguments, dependencies, retries, timeouts, results, after-commit."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import anyio
import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Depends, Plait
from plait.db import Database
from plait.exceptions import ConfigurationError
from plait.jobs import Job, JobArgumentError, JobFailed, Jobs, JobsError, JobsUnavailable, StreamBroker
from plait.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


class Point(msgspec.Struct):
    x: int
    y: int


def app_with(jobs: Jobs, tmp_path: Path | None = None) -> Plait:
    extensions = [Database(f"sqlite:///{tmp_path / 'jobs.db'}")] if tmp_path is not None else []
    return Plait(extensions=[*extensions, jobs])


async def create_table(app: Plait) -> None:
    async with app.extensions["database"].engine.begin() as connection:
        await connection.execute(text("create table notes (id integer primary key, body text not null)"))


async def bodies(app: Plait) -> list[str]:
    async with app.extensions["database"].engine.connect() as connection:
        return list((await connection.execute(text("select body from notes order by id"))).scalars())


async def test_arguments_are_checked_when_enqueued_and_arrive_typed() -> None:
    jobs = Jobs()
    seen: list[object] = []

    @jobs.job(result=True)
    async def place(point: Point, when: datetime.date, label: str = "here") -> str:
        seen.append((point, when, label))
        return f"{label}:{point.x},{point.y}"

    async with app_with(jobs).running():
        handle = await place.enqueue({"x": 1, "y": 2}, when=datetime.date(2026, 1, 2))
        assert await handle.result() == "here:1,2"
        with pytest.raises(JobArgumentError, match=r"Expected `int`, got `str` - at `\$.point.x`"):
            await place.enqueue({"x": "1", "y": 2}, when=datetime.date(2026, 1, 2))
        with pytest.raises(JobArgumentError, match="missing a required argument: 'when'"):
            await place.enqueue(Point(1, 2))
        with pytest.raises(JobArgumentError, match="unexpected keyword argument 'colour'"):
            await place.enqueue(Point(1, 2), datetime.date(2026, 1, 2), colour="red")
    # Converted back to the annotated types in the worker, not left as JSON dicts and strings.
    assert seen == [(Point(1, 2), datetime.date(2026, 1, 2), "here")]
    assert repr(handle).startswith("<JobHandle tests.test_jobs.test_jobs:")
    assert repr(place) == f"<Job {place.name}>"


async def test_a_job_gets_the_database_session_which_commits_when_it_succeeds(tmp_path: Path) -> None:
    jobs = Jobs()

    @jobs.job(result=True)
    async def note(body: str, db: AsyncSession) -> int:
        await db.execute(text("insert into notes (body) values (:body)"), {"body": body})
        if body == "bad":
            raise ValueError("refused")
        return len(body)

    app = app_with(jobs, tmp_path)
    async with app.running():
        await create_table(app)
        assert await (await note.enqueue("kept")).result() == 4
        with pytest.raises(JobFailed, match="ValueError: refused"):
            await (await note.enqueue("bad")).result()
        assert await bodies(app) == ["kept"]  # the failed job's insert was rolled back


def region() -> str:
    return "eu"


async def test_any_depends_and_settings_are_resolved_as_in_a_handler() -> None:
    jobs = Jobs()

    @jobs.job(result=True)
    async def where(name: str, region: Annotated[str, Depends(region)], jobs_ext: Jobs) -> str:
        return f"{name}@{region}/{jobs_ext.name}"

    async with app_with(jobs).running():
        assert await (await where.enqueue("a")).result() == "a@eu/jobs"
        assert await where("direct") == "direct@eu/jobs"  # run here and now, same resolution


async def test_failures_are_retried_with_backoff_until_the_job_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    jobs = Jobs()
    attempts: list[int] = []

    @jobs.job(retries=2, backoff=0.01, result=True)
    async def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return len(attempts)

    @jobs.job(retries=1, backoff=0.01, result=True)
    async def broken() -> None:
        raise RuntimeError("always")

    async with app_with(jobs).running():
        assert await (await flaky.enqueue(7)).result() == 3
        with pytest.raises(JobFailed, match="RuntimeError: always"):
            await (await broken.enqueue()).result()
    assert attempts == [7, 7, 7]
    assert "retry 1 of 2" in caplog.text
    assert "failed after 2 attempt(s)" in caplog.text


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    jobs = Jobs()
    job = jobs.job(backoff=1.0, max_backoff=5.0)(_noop)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (10, 5.0)]:
        assert ceiling / 2 <= job.delay(attempt) <= ceiling


async def _noop() -> None:
    return None


async def test_an_attempt_longer_than_the_timeout_fails() -> None:
    jobs = Jobs()

    @jobs.job(timeout=0.05, result=True)
    async def slow() -> None:
        await anyio.sleep(5)

    async with app_with(jobs).running():
        with pytest.raises(JobFailed, match=r"JobTimeout: Job '.*slow' ran longer than its timeout of 0\.05 s"):
            await (await slow.enqueue()).result()


async def test_results_are_kept_only_when_asked() -> None:
    jobs = Jobs()
    done = anyio.Event()

    @jobs.job
    async def fire() -> int:
        done.set()
        return 1

    async with app_with(jobs).running():
        handle = await fire.enqueue()
        await done.wait()
        with pytest.raises(JobsError, match=r"keeps no result; declare it with @jobs.job\(result=True\)"):
            await handle.result()


async def test_enqueue_after_commit_waits_for_the_commit_and_drops_on_rollback(tmp_path: Path) -> None:
    jobs = Jobs()
    seen: list[list[str]] = []
    ran = anyio.Event()

    @jobs.job
    async def audit(db: AsyncSession) -> None:
        # What a worker would read: only committed rows.
        seen.append(list((await db.execute(text("select body from notes order by id"))).scalars()))
        ran.set()

    app = app_with(jobs, tmp_path)

    @app.post("/notes/{body}")
    async def add(body: str, db: AsyncSession) -> str:
        await db.execute(text("insert into notes (body) values (:body)"), {"body": body})
        await audit.enqueue_after_commit()
        if body == "bad":
            raise ValueError("rolled back")
        return body

    @app.get("/plain")
    async def plain() -> str:
        await audit.enqueue_after_commit()
        return "never"

    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        await create_table(app)
        assert (await client.post("/notes/bad")).status_code == 500
        assert (await client.post("/notes/good")).status_code == 200
        await ran.wait()
        assert (await client.get("/plain")).status_code == 500  # no transaction to wait for: a clear error
    assert seen == [["good"]]  # run once, after the commit; the rolled-back request enqueued nothing


async def test_enqueue_after_commit_in_a_job_waits_for_that_jobs_commit(tmp_path: Path) -> None:
    jobs = Jobs()
    seen: list[list[str]] = []

    @jobs.job(result=True)
    async def read(db: AsyncSession) -> None:
        seen.append(list((await db.execute(text("select body from notes"))).scalars()))

    @jobs.job(result=True)
    async def write(db: AsyncSession) -> None:
        await db.execute(text("insert into notes (body) values ('from a job')"))
        await read.enqueue_after_commit()

    app = app_with(jobs, tmp_path)
    async with app.running():
        await create_table(app)
        await (await write.enqueue()).result()
        with anyio.fail_after(5):
            while not seen:
                await anyio.sleep(0.01)
    assert seen == [["from a job"]]


async def test_enqueue_after_commit_outside_a_request_says_what_to_do() -> None:
    jobs = Jobs()
    job = jobs.job(_noop)
    with pytest.raises(JobsError, match=r"commit first, then call enqueue\(\)"):
        await job.enqueue_after_commit()


async def test_enqueueing_before_the_app_runs_says_what_to_do() -> None:
    jobs = Jobs()
    job = jobs.job(_noop)
    with pytest.raises(ConfigurationError, match="belong to no app yet"):
        await job.enqueue()
    app_with(jobs).build()
    with pytest.raises(ConfigurationError, match="sent only while the app runs"):
        await job.enqueue()


def test_declaration_mistakes_are_reported() -> None:
    jobs = Jobs()
    jobs.job(name="same")(_noop)
    with pytest.raises(ConfigurationError, match="already declared"):
        jobs.job(name="same")(_noop)
    with pytest.raises(ConfigurationError, match="retries=-1 must be at least 0"):
        jobs.job(retries=-1)(_noop)
    with pytest.raises(ConfigurationError, match="every=0 must be at least 1"):
        jobs.job(every=0)(_noop)

    async def spread(*values: int) -> None: ...

    def blocking() -> None: ...

    with pytest.raises(ConfigurationError, match="has a timeout but is not async"):
        jobs.job(timeout=1)(blocking)

    with pytest.raises(ConfigurationError, match=r"takes \*values; a job's arguments travel as JSON"):
        jobs.job(spread)


def test_jobs_must_be_installed_after_the_database(tmp_path: Path) -> None:
    app = Plait(extensions=[Jobs(), Database(f"sqlite:///{tmp_path / 'x.db'}")])
    with pytest.raises(ConfigurationError, match=r"Install Jobs after Database"):
        app.build()


def test_the_url_setting_moves_declared_jobs_to_the_redis_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_JOBS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("PLAIT_JOBS_QUEUE", "myapp:jobs")
    jobs = Jobs()
    job: Job[None] = jobs.job(_noop)
    app_with(jobs).build()
    assert isinstance(jobs.broker, StreamBroker)
    assert jobs.broker.queue_name == "myapp:jobs"
    assert jobs.broker.find_task(job.name) is not None


async def test_a_job_that_cannot_be_sent_after_the_commit_is_logged_not_a_failed_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = Jobs()
    job = jobs.job(_noop)
    app = app_with(jobs, tmp_path)

    @app.post("/notes")
    async def add(db: AsyncSession) -> str:
        await db.execute(text("insert into notes (body) values ('saved')"))
        await job.enqueue_after_commit()
        return "ok"

    async def broken(payload: object) -> None:
        raise JobsUnavailable("Redis is down")

    monkeypatch.setattr(job, "_send", broken)
    async with AsyncTestClient(app) as client:
        await create_table(app)
        # The data is committed already, so the client is told so; the lost job is logged loudly.
        assert (await client.post("/notes")).status_code == 200
        assert await bodies(app) == ["saved"]
    assert "could not be enqueued" in caplog.text


async def test_in_process_jobs_still_running_finish_before_the_app_stops(tmp_path: Path) -> None:
    jobs = Jobs()

    @jobs.job
    async def late(db: AsyncSession) -> None:
        await anyio.sleep(0.05)
        await db.execute(text("insert into notes (body) values ('finished')"))

    app = app_with(jobs, tmp_path)
    async with app.running():
        await create_table(app)
        await late.enqueue()
    async with app.running():
        assert await bodies(app) == ["finished"]


async def test_a_sync_job_runs_in_the_thread_pool() -> None:
    jobs = Jobs()

    @jobs.job(result=True)
    def total(a: int, b: int = 1) -> int:
        return a + b

    async with app_with(jobs).running():
        assert await (await total.enqueue(a=2)).result() == 3


async def test_waiting_for_a_result_gives_up_after_the_timeout() -> None:
    jobs = Jobs()
    release = anyio.Event()

    @jobs.job(result=True)
    async def held() -> int:
        await release.wait()
        return 1

    async with app_with(jobs).running():
        handle = await held.enqueue()
        with pytest.raises(TimeoutError, match=r"did not finish within 0\.05 s"):
            await handle.result(timeout=0.05)
        release.set()
        assert await handle.result() == 1

"""``db: Session`` in sync handlers, and savepoints in both kinds of session, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, make_url, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from plait import BackgroundTasks, HTTPException, JSONResponse, Plait, Request
from plait.db import Database, DatabaseSettings, Model
from plait.db.engine import sync_url
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient
from tests.test_db.models import TABLES, Writer

pytestmark = pytest.mark.anyio


def add_writer(name: str, db: Session) -> None:
    """A sync background task: its session commits when the task returns."""
    db.add(Writer(name=name))


def build(url: str, *, tables: bool = True, **settings: Any) -> tuple[Plait[Any], Database]:
    """An app whose handlers are sync and use ``db: Session``; the tables are fresh for each app."""
    database = Database(settings=DatabaseSettings(database_url=url, **settings))
    app = Plait(extensions=[database])

    if tables:

        @app.on_startup
        async def fresh() -> None:
            async with database.engine.begin() as connection:
                await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
                await connection.run_sync(Model.metadata.create_all, tables=TABLES)

        @app.on_shutdown
        async def gone() -> None:
            async with database.engine.begin() as connection:
                await connection.run_sync(Model.metadata.drop_all, tables=TABLES)

    @app.get("/writers")
    def names(db: Session) -> list[str]:
        return list(db.scalars(select(Writer.name).order_by(Writer.name)).all())

    @app.post("/writers", status_code=201)
    def create(name: str, db: Session) -> str:
        db.add(Writer(name=name))  # flushed by the commit, after the handler returned
        return name

    @app.post("/writers/raise")
    def create_then_raise(name: str, db: Session) -> None:
        db.add(Writer(name=name))
        db.flush()
        raise HTTPException(400, "changed my mind")

    @app.post("/writers/refuse")
    def create_then_refuse(name: str, db: Session) -> JSONResponse:
        db.add(Writer(name=name))
        db.flush()
        return JSONResponse({"refused": name}, status_code=409)

    @app.post("/writers/later", status_code=202)
    def later(name: str, tasks: BackgroundTasks) -> str:
        tasks.add_task(add_writer, name)
        return "queued"

    @app.get("/engine")
    def engine_driver(engine: Engine) -> str:
        return engine.dialect.driver

    @app.get("/plain")
    def plain() -> str:
        return "no database here"

    return app, database


async def test_a_successful_sync_handler_commits_before_the_response(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        assert (await client.post("/writers", params={"name": "Ann"})).status_code == 201
        assert (await client.get("/writers")).json() == ["Ann"]


async def test_an_exception_or_an_error_response_rolls_back(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        assert (await client.post("/writers/raise", params={"name": "Bo"})).status_code == 400
        refused = await client.post("/writers/refuse", params={"name": "Cy"})
        assert (refused.status_code, refused.json()) == (409, {"refused": "Cy"})
        assert (await client.get("/writers")).json() == []


async def test_a_failed_sync_commit_replaces_the_response(database_url: str) -> None:
    app, _ = build(database_url)

    async with AsyncTestClient(app) as client:
        await client.post("/writers", params={"name": "Ann"})
        response = await client.post("/writers", params={"name": "Ann"})  # unique violation at commit
        assert response.status_code == 500
        assert response.json()["detail"] == "The server hit an error it did not expect. It has been logged."
        assert (await client.get("/writers")).json() == ["Ann"]


async def test_the_apps_handler_answers_a_failed_sync_commit(database_url: str) -> None:
    app, _ = build(database_url)

    @app.exception_handler(sa_exc.IntegrityError)
    def conflict(request: Request, exc: sa_exc.IntegrityError) -> ProblemResponse:
        return ProblemResponse(409, detail="That name is taken.")

    async with AsyncTestClient(app) as client:
        await client.post("/writers", params={"name": "Ann"})
        response = await client.post("/writers", params={"name": "Ann"})
        assert (response.status_code, response.json()["detail"]) == (409, "That name is taken.")


async def test_a_sync_commit_that_fails_outside_the_driver_is_a_500(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = build(database_url)

    def broken(self: Session) -> None:
        raise RuntimeError("disk on fire")

    async with AsyncTestClient(app) as client:
        monkeypatch.setattr(Session, "commit", broken)
        response = await client.post("/writers", params={"name": "Ann"})
        assert (response.status_code, response.json()["detail"]) == (500, "The changes could not be saved.")
        monkeypatch.undo()
        assert (await client.get("/writers")).json() == []


async def test_background_tasks_and_container_calls_get_sync_sessions(database_url: str) -> None:
    app, _ = build(database_url)

    def count(db: Session) -> int:
        return len(db.scalars(select(Writer)).all())

    async with AsyncTestClient(app) as client:
        assert (await client.post("/writers/later", params={"name": "Later"})).status_code == 202
        await app.container.call(add_writer, name="Called")
        assert (await client.get("/writers")).json() == ["Called", "Later"]
        assert await app.container.call(count) == 2


async def test_the_engine_provider_gives_the_sync_driver(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        expected = "pysqlite" if database_url.startswith("sqlite") else "psycopg"
        assert (await client.get("/engine")).text == expected


async def test_the_sync_engine_shares_the_pool_settings_and_pragmas(database_url: str) -> None:
    app, db = build(database_url, database_pool_size=3, database_sqlite_busy_timeout=1234)
    async with AsyncTestClient(app):
        engine = db.sync_engine
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                pragma = connection.exec_driver_sql
                assert pragma("PRAGMA foreign_keys").scalar() == 1
                assert pragma("PRAGMA journal_mode").scalar() == "wal"
                assert pragma("PRAGMA busy_timeout").scalar() == 1234
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def has_sync_engine(database: Database) -> bool:
    return database._sync_engine is not None


async def test_the_sync_engine_exists_only_when_something_asks_for_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    database = Database(url)
    app = Plait(extensions=[database])

    @app.get("/async")
    async def answer(db: AsyncSession) -> int:
        return 42

    def sync_driver(engine: Engine) -> str:
        return engine.dialect.driver

    async with AsyncTestClient(app) as client:
        assert (await client.get("/async")).json() == 42
        assert not has_sync_engine(database)  # no route asked: none was made
        assert await app.container.call(sync_driver) == "pysqlite"  # made on first use
        assert has_sync_engine(database)
    assert not has_sync_engine(database)  # disposed at shutdown
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        database.sync_engine  # noqa: B018

    sync_app, sync_database = build(url, tables=False)
    async with AsyncTestClient(sync_app):
        assert has_sync_engine(sync_database)  # a route asks for it: made at startup


def test_only_routes_with_a_session_are_wrapped(tmp_path: Path) -> None:
    app, db = build(f"sqlite:///{tmp_path / 'x.db'}")
    wrapped = {route.placed.path: db.wrap_route(route, app) is not app for route in app.compiled_routes()}
    assert wrapped["/writers"]
    assert wrapped["/writers/raise"]
    assert not wrapped["/engine"]
    assert not wrapped["/plain"]
    assert not wrapped["/writers/later"]


async def test_a_sync_session_outside_the_lifespan_says_why(tmp_path: Path) -> None:
    app, _ = build(f"sqlite:///{tmp_path / 'x.db'}")
    app.build()
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        await app.container.call(add_writer, name="never")


class FakeSession:
    def scalars(self, statement: Any) -> FakeSession:
        return self

    def all(self) -> list[str]:
        return ["fake"]


async def test_the_sync_session_provider_can_be_overridden(tmp_path: Path) -> None:
    app, db = build(f"sqlite:///{tmp_path / 'x.db'}")

    async def fake() -> FakeSession:
        return FakeSession()

    app.dependency_overrides[db.sync_session] = fake
    async with AsyncTestClient(app) as client:
        assert (await client.get("/writers")).json() == ["fake"]


async def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    app, _ = build("sqlite:///:memory:", tables=False)

    @app.on_startup
    def tables() -> None:
        with app.extensions["database"].sync_engine.begin() as connection:
            Model.metadata.create_all(connection, tables=TABLES)

    async with AsyncTestClient(app) as client:
        for name in ("Ann", "Bo", "Cy"):
            assert (await client.post("/writers", params={"name": name})).status_code == 201
        assert (await client.get("/writers")).json() == ["Ann", "Bo", "Cy"]


async def test_a_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path: Path) -> None:
    app, _ = build(f"sqlite:///{tmp_path / 'missing-dir' / 'app.db'}", tables=False)
    async with AsyncTestClient(app) as client:
        response = await client.get("/writers")
        assert (response.status_code, response.headers["retry-after"]) == (503, "1")
        assert "unable to open database file" in response.json()["detail"]


@pytest.mark.postgres
async def test_a_postgres_server_that_refuses_is_a_503_for_sync_handlers(postgres_server: str) -> None:
    app, _ = build(postgres_server.replace(":5432", ":1"), tables=False, database_connect_timeout=2.0)
    async with AsyncTestClient(app) as client:
        started = time.perf_counter()
        response = await client.get("/writers")
        assert response.status_code == 503
        assert "Try again shortly" in response.json()["detail"]
        assert time.perf_counter() - started < 2.5


async def test_isolated_runs_sync_sessions_in_a_rolled_back_transaction(database_url: str) -> None:
    app, db = build(database_url)
    async with AsyncTestClient(app) as client:
        async with db.isolated():
            assert (await client.post("/writers", params={"name": "Temporary"})).status_code == 201
            assert (await client.post("/writers/raise", params={"name": "Never"})).status_code == 400
            assert (await client.get("/writers")).json() == ["Temporary"]
        assert (await client.get("/writers")).json() == []


def nested_routes(app: Plait[Any]) -> None:
    """Routes that write each name in a savepoint: a duplicate undoes only its own savepoint."""

    @app.post("/sync/nested")
    def sync_nested(names: str, db: Session) -> list[str]:
        kept = []
        for name in names.split(","):
            try:
                with db.begin_nested():
                    db.add(Writer(name=name))
            except sa_exc.IntegrityError:
                continue
            kept.append(name)
        return kept

    @app.post("/async/nested")
    async def async_nested(names: str, db: AsyncSession) -> list[str]:
        kept = []
        for name in names.split(","):
            try:
                async with db.begin_nested():
                    db.add(Writer(name=name))
            except sa_exc.IntegrityError:
                continue
            kept.append(name)
        return kept

    @app.post("/sync/nested/refuse")
    def sync_nested_then_refuse(name: str, db: Session) -> JSONResponse:
        with db.begin_nested():  # the first statement of the transaction is the SAVEPOINT
            db.add(Writer(name=name))
        return JSONResponse({"refused": name}, status_code=409)

    @app.post("/async/nested/refuse")
    async def async_nested_then_refuse(name: str, db: AsyncSession) -> JSONResponse:
        async with db.begin_nested():
            db.add(Writer(name=name))
        return JSONResponse({"refused": name}, status_code=409)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_savepoint_undoes_only_its_block(database_url: str, kind: str) -> None:
    app, _ = build(database_url)
    nested_routes(app)
    async with AsyncTestClient(app) as client:
        response = await client.post(f"/{kind}/nested", params={"names": "Ann,Ann,Bo"})
        assert response.json() == ["Ann", "Bo"]
        assert (await client.get("/writers")).json() == ["Ann", "Bo"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_request_rollback_undoes_released_savepoints(database_url: str, kind: str) -> None:
    app, db = build(database_url)
    nested_routes(app)
    async with AsyncTestClient(app) as client:
        assert (await client.post(f"/{kind}/nested/refuse", params={"name": "Ann"})).status_code == 409
        assert (await client.get("/writers")).json() == []
        async with db.engine.connect() as connection:  # checked with a connection of its own, too
            assert (await connection.execute(select(func.count()).select_from(Writer))).scalar() == 0


def test_a_missing_sync_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match=r"needs the psycopg driver for it: pip install 'plait\[db\]'"):
        sync_url(make_url("postgresql+asyncpg://app@db/shop"))

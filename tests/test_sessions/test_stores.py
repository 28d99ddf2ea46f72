"""The server stores against the real servers: the database (SQLite, PostgreSQL) and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from click.testing import CliRunner
from sqlalchemy import String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import Plait
from plait.db import Database
from plait.exceptions import ConfigurationError
from plait.sessions import DatabaseStore, RedisStore, Session, Sessions
from plait.sessions.cli import sessions_group
from plait.sessions.stores.database import SessionRecord
from plait.settings import Settings
from plait.signing import Signer
from plait.testing import AsyncTestClient
from tests.test_sessions.helpers import SECRET, MemoryStore, session_app

pytestmark = pytest.mark.anyio
TABLE: Table = SessionRecord.__table__  # type: ignore[assignment] # a declarative class has a Table


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
async def database_app(db_url: str) -> AsyncIterator[tuple[AsyncTestClient, DatabaseStore]]:
    """A running app on ``Sessions(DatabaseStore())`` with its ``plait_session`` table, and a client."""
    store = DatabaseStore()
    app = session_app(store)
    database = app.install(Database(db_url))
    async with AsyncTestClient(app) as client:
        async with database.engine.begin() as connection:
            await connection.run_sync(TABLE.drop, checkfirst=True)
            await connection.run_sync(TABLE.create)
        try:
            yield client, store
        finally:
            async with database.engine.begin() as connection:
                await connection.run_sync(TABLE.drop)


async def keys(client: Any, prefix: str) -> list[bytes]:
    """This test's keys only (SCAN with a match: never KEYS on the shared server)."""
    return [key async for key in client.scan_iter(match=prefix + "*")]


async def rows(store: DatabaseStore) -> list[Any]:
    async with store.database.engine.connect() as connection:
        return list((await connection.execute(select(TABLE))).all())


async def test_the_database_store_round_trip(database_app: tuple[AsyncTestClient, DatabaseStore]) -> None:
    client, store = database_app
    assert (await client.get("/read")).json() == {}
    assert await rows(store) == []  # reading a new session creates no row
    await client.post("/set/cart", params={"value": "kettle"})
    assert (await client.get("/read")).json() == {"cart": "kettle"}
    await client.post("/set/cart", params={"value": "teapot"})
    (row,) = await rows(store)
    assert row.data == '{"cart":"teapot"}'
    assert row.expires > datetime.now(UTC) + timedelta(days=13)
    await client.post("/login", params={"user": "ada"})
    (cycled,) = await rows(store)
    assert cycled.key != row.key
    await client.post("/logout")
    assert await rows(store) == []


async def test_the_database_store_ignores_expired_rows_and_clears_them(
    database_app: tuple[AsyncTestClient, DatabaseStore],
) -> None:
    _, store = database_app
    past, future = datetime.now(UTC) - timedelta(seconds=1), datetime.now(UTC) + timedelta(hours=1)
    async with store.database.engine.begin() as connection:
        await connection.execute(
            insert(TABLE),
            [
                {"key": "old", "data": '{"user":"ada"}', "expires": past},
                {"key": "live", "data": '{"user":"grace"}', "expires": future},
                {"key": "junk", "data": "not json", "expires": future},
            ],
        )
    assert await store.load("old") is None
    assert await store.load("live") == {"user": "grace"}
    assert await store.load("junk") is None
    assert await store.clear_expired() == 1
    assert sorted(row.key for row in await rows(store)) == ["junk", "live"]
    # Saving under a key whose row was cleared writes it again (the client already holds that key).
    assert await store.save("old", {"user": "ada"}, 60) == "old"
    assert await store.load("old") == {"user": "ada"}


async def test_plait_sessions_clear_expired(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    app = Plait(settings=Settings(secret_key=SECRET), extensions=[Database(url), Sessions(DatabaseStore())])
    async with app.running():
        engine = app.extensions["database"].engine
        async with engine.begin() as connection:
            await connection.run_sync(TABLE.create)
            expired = datetime.now(UTC) - timedelta(minutes=1)
            await connection.execute(insert(TABLE).values(key="old", data="{}", expires=expired))
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(sessions_group, ["clear-expired"], obj=app))
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 1 expired session(s).\n"


def test_clear_expired_on_a_store_that_expires_by_itself() -> None:
    app = session_app()
    app.build()
    result = CliRunner().invoke(sessions_group, ["clear-expired"], obj=app)
    assert result.output == "CookieStore expires sessions by itself; there is nothing to clear.\n"


def test_the_cli_group_is_offered_by_the_extension() -> None:
    assert [command.name for command in Sessions().commands()] == ["sessions"]


def test_the_database_store_needs_the_database_extension() -> None:
    app = session_app(DatabaseStore())
    with pytest.raises(ConfigurationError, match=r"app.install\(Database\(\)\)"):
        app.build()
    with pytest.raises(ConfigurationError, match="not set up"):
        _ = DatabaseStore().database


@pytest.mark.redis
async def test_the_redis_store_round_trip(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    store = RedisStore(redis_url, prefix=redis_prefix)
    app = session_app(store, max_age=120)
    spy = aioredis.Redis.from_url(redis_url)
    try:
        async with AsyncTestClient(app) as client:
            assert (await client.get("/read")).json() == {}
            assert await keys(spy, redis_prefix) == []  # no record for a session only read
            await client.post("/set/cart", params={"value": "kettle"})
            (key,) = await keys(spy, redis_prefix)
            assert 0 < await spy.ttl(key) <= 120
            assert (await client.get("/read")).json() == {"cart": "kettle"}
            await client.post("/set/cart", params={"value": "teapot"})
            assert await keys(spy, redis_prefix) == [key]  # saved again under the same id
            await client.post("/login", params={"user": "ada"})
            (cycled,) = await keys(spy, redis_prefix)
            assert cycled != key
            await spy.set(redis_prefix + "junk", b"not json")
            assert await store.load("junk") is None
            await spy.delete(redis_prefix + "junk")
            await client.post("/logout")
            assert await keys(spy, redis_prefix) == []
    finally:
        for leftover in await keys(spy, redis_prefix):
            await spy.delete(leftover)
        await spy.aclose()
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        _ = store.client


@pytest.mark.redis
async def test_the_redis_store_uses_a_client_it_is_given(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        store = RedisStore(prefix=redis_prefix, client=client)
        app = session_app(store)
        async with AsyncTestClient(app) as http:
            await http.post("/set/a", params={"value": "1"})
            assert (await http.get("/read")).json() == {"a": "1"}
        assert store.client is client  # still open: it belongs to the caller
        key = await store.save(None, {"b": 2}, 30)
        assert await store.load(key) == {"b": 2}
        await store.delete(key)
        assert await store.load(key) is None
        for leftover in await keys(client, redis_prefix):
            await client.delete(leftover)
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_a_new_redis_session_never_overwrites_an_existing_key(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plait.sessions.stores.redis as module

    store = RedisStore(redis_url, prefix=redis_prefix)
    async with store.lifespan(session_app()):
        await store.save("taken", {"owner": "first"}, 30)
        proposals = iter(["taken", "free"])
        monkeypatch.setattr(module, "new_key", lambda: next(proposals))
        try:
            assert await store.save(None, {"owner": "second"}, 30) == "free"
            assert await store.load("taken") == {"owner": "first"}
        finally:
            await store.delete("taken")
            await store.delete("free")


async def test_an_unreachable_redis_is_a_503_when_loading_and_when_saving(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 1: the connection is refused at once, no server needed.
    store = RedisStore("redis://127.0.0.1:1/0", prefix="unused:")
    app = session_app(store)
    async with AsyncTestClient(app) as client:
        client.cookies.set("plait_session", Signer([SECRET], salt="plait.sessions").sign("some-id"))
        loading = await client.get("/read")
        client.cookies.clear()
        saving = await client.post("/set/a", params={"value": "1"})  # a new session: no load, only a save
    for response in (loading, saving):
        assert response.status_code == 503
        assert response.json()["detail"] == "The session store is unavailable. Try again shortly."
        assert response.headers["retry-after"] == "1"
    assert "The session store is unavailable" in caplog.text


async def test_a_redis_that_accepts_but_never_answers_is_a_503_within_the_timeout() -> None:
    # A server that takes the connection and then says nothing, like a Redis stuck in a long command.
    async def silent(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with anyio.move_on_after(5):
                await stream.receive()
                await anyio.sleep(5)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610 - anyio, not Django
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, silent)
        store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix="unused:", timeout=0.2)
        async with AsyncTestClient(session_app(store)) as client:
            client.cookies.set("plait_session", Signer([SECRET], salt="plait.sessions").sign("some-id"))
            with anyio.fail_after(3):
                response = await client.get("/read")
        tasks.cancel_scope.cancel()
    assert response.status_code == 503


class _Base(DeclarativeBase):
    pass


class _Item(_Base):
    __tablename__ = "b_sessions_item"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)


async def test_a_failed_database_commit_leaves_the_session_unsaved(tmp_path: Path) -> None:
    store = MemoryStore()
    app = Plait(
        settings=Settings(secret_key=SECRET),
        extensions=[Database(f"sqlite+aiosqlite:///{tmp_path / 'order.db'}"), Sessions(store)],
    )

    @app.post("/items/{name}")
    async def add(name: str, db: AsyncSession, session: Session) -> str:
        db.add(_Item(name=name))  # a duplicate fails at the commit, after the handler returned
        session["adds"] = session.get("adds", 0) + 1
        return name

    async with AsyncTestClient(app) as client:
        async with app.extensions["database"].engine.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
        assert (await client.post("/items/kettle")).status_code == 200
        (key,) = store.records
        failed = await client.post("/items/kettle")
        assert failed.status_code == 500
        assert "set-cookie" not in failed.headers
        assert store.records == {key: {"adds": 1}}

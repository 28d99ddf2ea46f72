"""The request-scoped session on SQLite and PostgreSQL: commit, rollback, every place DI reaches."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Depends, Plait, Request
from plait.db import Database
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient, TestClient
from tests.test_db.helpers import Item, build

pytestmark = pytest.mark.anyio


class Repository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db


async def test_a_successful_handler_commits_before_the_response(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        assert (await client.post("/items", params={"name": "kettle"})).status_code == 201
        assert (await client.get("/items")).json() == ["kettle"]


async def test_an_exception_rolls_back(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        response = await client.post("/items/raise", params={"name": "kettle"})
        assert response.status_code == 400
        assert (await client.get("/items")).json() == []


async def test_an_error_response_rolls_back(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        response = await client.post("/items/refuse", params={"name": "kettle"})
        assert (response.status_code, response.json()) == (409, {"refused": "kettle"})
        assert (await client.get("/items")).json() == []


async def test_a_failed_commit_replaces_the_response(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        await client.post("/items", params={"name": "kettle"})
        response = await client.post("/items", params={"name": "kettle"})  # unique violation at commit
        assert response.status_code == 500
        assert response.json()["detail"] == "The server hit an error it did not expect. It has been logged."
        assert (await client.get("/items")).json() == ["kettle"]


async def test_a_commit_that_fails_outside_the_driver_is_a_500(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = build(database_url)

    async def broken(self: AsyncSession) -> None:
        raise RuntimeError("disk on fire")

    async with AsyncTestClient(app) as client:
        monkeypatch.setattr(AsyncSession, "commit", broken)
        response = await client.post("/items", params={"name": "kettle"})
        assert (response.status_code, response.json()["detail"]) == (500, "The changes could not be saved.")
        monkeypatch.undo()
        assert (await client.get("/items")).json() == []  # rolled back


async def test_the_apps_handler_answers_a_failed_commit(database_url: str) -> None:
    app, _ = build(database_url)

    @app.exception_handler(sa_exc.IntegrityError)
    def conflict(request: Request, exc: sa_exc.IntegrityError) -> ProblemResponse:
        return ProblemResponse(409, detail="That name is taken.")

    async with AsyncTestClient(app) as client:
        await client.post("/items", params={"name": "kettle"})
        response = await client.post("/items", params={"name": "kettle"})
        assert (response.status_code, response.json()["detail"]) == (409, "That name is taken.")


async def test_background_tasks_and_websockets_get_sessions(database_url: str) -> None:
    app, _ = build(database_url)
    async with AsyncTestClient(app) as client:
        assert (await client.post("/items/later", params={"name": "later"})).status_code == 202
        async with client.websocket_connect("/ws") as ws:
            await ws.send_text("socket")
            assert await ws.receive_text() == "added"
        assert (await client.get("/items")).json() == ["later", "socket"]


async def test_providers_and_container_calls_get_sessions(database_url: str) -> None:
    app, db = build(database_url)

    @app.post("/repo/{name}")
    async def via_repo(name: str, repo: Annotated[Repository, Depends(Repository)]) -> str:
        repo.db.add(Item(name=name))
        return name

    async def add(name: str, db: AsyncSession) -> None:
        db.add(Item(name=name))

    async with AsyncTestClient(app) as client:
        assert (await client.post("/repo/from-repo")).text == "from-repo"
        await app.container.call(add, name="from-call")
        assert (await client.get("/items")).json() == ["from-call", "from-repo"]
        assert (await client.get("/engine")).text == db.engine.dialect.name


def test_only_routes_that_use_the_session_are_wrapped(tmp_path: Any) -> None:
    app, db = build(f"sqlite:///{tmp_path / 'x.db'}")
    wrapped = {route.placed.path: db.wrap_route(route, app) is not app for route in app.compiled_routes()}
    assert wrapped["/items"]
    assert wrapped["/items/raise"]
    assert not wrapped["/plain"]
    assert not wrapped["/engine"]
    assert not wrapped["/ws"]
    assert not wrapped["/items/later"]


def test_the_engine_exists_only_while_the_app_runs(tmp_path: Any) -> None:
    app, db = build(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        db.engine  # noqa: B018
    with TestClient(app) as client:
        assert client.get("/items").json() == []
        engine = db.engine
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="only while the app runs"):
        db.engine  # noqa: B018


async def test_a_session_outside_the_lifespan_says_why(tmp_path: Any) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    app = Plait(extensions=[db])
    app.build()

    async def use(db: AsyncSession) -> None:
        raise AssertionError("never called")  # pragma: no cover

    with pytest.raises(ConfigurationError, match="only while the app runs"):
        await app.container.call(use)


class FakeResult:
    def all(self) -> list[str]:
        return ["fake"]


class FakeSession:
    async def scalars(self, statement: Any) -> FakeResult:
        return FakeResult()


async def fake() -> FakeSession:
    return FakeSession()


async def test_the_session_provider_can_be_overridden(tmp_path: Any) -> None:
    app, db = build(f"sqlite:///{tmp_path / 'x.db'}")
    assert app.extensions["database"] is db

    app.dependency_overrides[db.session] = fake
    async with AsyncTestClient(app) as client:
        assert (await client.get("/items")).json() == ["fake"]


async def test_an_error_handler_can_still_read_what_the_handler_loaded(database_url: str) -> None:
    # A 404 page that shows the signed-in user reads an object loaded before the error: the rollback
    # must not leave it expired (reading it would need a query the async session cannot run there).
    app, _ = build(database_url)
    seen: dict[str, Any] = {}

    class Gone(Exception):
        pass

    @app.get("/items/{name}/gone")
    async def gone(name: str, db: AsyncSession) -> None:
        db.add(Item(name=name))
        await db.flush()
        seen["item"] = await db.get(Item, (await db.scalars(select(Item.id).where(Item.name == name))).one())
        raise Gone

    @app.exception_handler(Gone)
    async def gone_page(request: Request, exc: Gone) -> ProblemResponse:
        return ProblemResponse(404, detail=f"{seen['item'].name} is gone")

    async with AsyncTestClient(app) as client:
        response = await client.get("/items/kept/gone")
        assert response.status_code == 404
        assert response.json()["detail"] == "kept is gone"
        assert (await client.get("/items")).json() == []  # and the insert was rolled back

"""The ``isolated_db`` fixture: each test's changes are rolled back, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from plait.db import Database
from plait.testing import AsyncTestClient
from tests.test_db.helpers import Base, Item, build

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(database_url: str) -> Any:
    the_app, db = build(database_url)
    the_app.startup_hooks.clear()  # keep the table between tests: only the rollback may empty it

    async def create_once() -> None:
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    the_app.on_startup(create_once)
    return the_app


async def test_changes_inside_the_test_are_visible(
    app: Any, async_client: AsyncTestClient, isolated_db: AsyncConnection
) -> None:
    await isolated_db.execute(delete(Item))  # rolled back too
    await async_client.post("/items", params={"name": "temporary"})
    assert (await async_client.get("/items")).json() == ["temporary"]
    await async_client.post("/items/raise", params={"name": "never"})  # a handler's rollback still works
    count = (await isolated_db.execute(select(func.count()).select_from(Item))).scalar_one()
    assert count == 1


async def test_and_gone_in_the_next_test(app: Any, async_client: AsyncTestClient, isolated_db: AsyncConnection) -> None:
    assert "temporary" not in (await async_client.get("/items")).json()


def test_the_database_names_its_pytest_plugin() -> None:
    assert Database.pytest_plugins == ("plait.db.testing",)

"""pytest fixtures for apps that install :class:`~plait.db.Database`.

Enable them in the project's root ``conftest.py`` (``Database.pytest_plugins`` names this module)::

    pytest_plugins = ["plait.db.testing"]

    @pytest.fixture
    def app():
        from myproject.app import app
        return app

Then an async test that asks for ``isolated_db`` runs in one transaction that is rolled back
afterwards, whatever the handlers commit::

    async def test_create(async_client, isolated_db):
        await async_client.post("/articles", json={"title": "Hi"})
        ...                                   # the article exists here, and is gone after the test
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection


@pytest.fixture
async def isolated_db(async_client: Any, _plait_app: Any) -> AsyncIterator[AsyncConnection]:
    """The app's database, inside a transaction rolled back after the test (the connection is yielded)."""
    database = _plait_app.extensions["database"]
    async with database.isolated() as connection:
        yield connection

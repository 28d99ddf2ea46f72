"""The example's migration (written by ``plait db makemigrations``) on PostgreSQL, through the ``plait`` CLI.

SQLite is covered by every other test here (conftest migrates it); this runs the same revision, and
its downgrade, on the other database the project supports.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.test_example_site.conftest import SITE
from tests.test_hardening.server import plait_command

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url(fresh_postgres_database: str) -> Iterator[str]:
    yield fresh_postgres_database
    engine = create_engine(sync(fresh_postgres_database))
    try:
        with engine.begin() as connection:  # the database is the whole process's: leave it empty
            connection.execute(text("drop schema public cascade"))
            connection.execute(text("create schema public"))
    finally:
        engine.dispose()


def sync(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def plait(url: str, *args: str) -> str:
    env = {**os.environ, "PLAIT_APP": str(SITE / "app.py"), "PLAIT_DATABASE_URL": url, "PLAIT_SECRET_KEY": "x" * 32}
    done = subprocess.run([*plait_command(), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def tables(url: str) -> set[str]:
    engine = create_engine(sync(url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_the_notes_migration_on_postgresql(postgres_url: str) -> None:
    assert "Applied" in plait(postgres_url, "db", "migrate")
    assert {"note", "auth_user"} <= tables(postgres_url)
    assert "The models match the migrations" in plait(postgres_url, "db", "check")
    plait(postgres_url, "db", "downgrade", "base")
    assert tables(postgres_url) <= {"alembic_version"}

"""The admin's shipped migration (``plait_admin_log``) through real ``plait db`` commands, SQLite and PostgreSQL.

Each command runs in a subprocess: the project's models must be the only ones on ``Model.metadata``.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, inspect
from sqlalchemy.engine import make_url

from plait.admin import Admin
from plait.db import Model
from plait.db.engine import sync_url
from tests.services import POSTGRES_ADMIN_URL

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from plait.db import Model


class Note(Model):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
"""

APP = """
from plait import Plait
from plait.admin import Admin
from plait.auth import Auth
from plait.csrf import CSRF
from plait.db import Database
from plait.sessions import Sessions

from proj_models import Note

admin = Admin()
admin.register(Note)
app = Plait(extensions=[Database({url!r}), Sessions(), CSRF(), Auth(), admin])
"""


async def _server(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    request.getfixturevalue("fresh_postgres_database")  # skips, or fails under CI, when the server is down
    name = f"plait_admin_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_server(f'create database "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_server(f'drop database if exists "{name}" with (force)'))


def ok(project: Path, *args: str) -> str:
    env = {**os.environ, "PLAIT_APP": "app.py", "PYTHONPATH": str(project), "PLAIT_SECRET_KEY": "migrations-test"}
    code = "from plait.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_plait_db_migrate_creates_the_history_table(tmp_path: Path, empty_url: str) -> None:
    (tmp_path / "proj_models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "app.py").write_text(APP.format(url=empty_url), encoding="utf-8")
    ok(tmp_path, "db", "init")
    applied = ok(tmp_path, "db", "migrate")
    assert "plait_admin_0001" in applied
    created = ok(tmp_path, "db", "makemigrations", "-m", "notes")
    source = Path(re.search(r"Created (\S+\.py)", created).group(1)).read_text()  # type: ignore[union-attr]
    # Only the project's table: the history table belongs to the admin's own revision.
    assert re.findall(r"op\.create_table\('(\w+)'", source) == ["note"]
    ok(tmp_path, "db", "migrate")
    engine = create_engine(sync_url(make_url(empty_url)))
    try:
        found = set(inspect(engine).get_table_names())
        assert {"plait_admin_log", "auth_user", "note"} <= found
        # The migrated table matches the model: autogenerate finds nothing to change.
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        metadata = MetaData(naming_convention=Model.metadata.naming_convention)
        for name in sorted(Admin.migrations_tables | {"auth_user"}):
            Model.metadata.tables[name].to_metadata(metadata)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            # Only the admin's table is compared (the other tables of the database are not in `metadata`).
            diffs = [d for d in compare_metadata(context, metadata) if "plait_admin_log" in repr(d)]
        assert diffs == []
    finally:
        engine.dispose()
    assert "Reverted plait_admin_0001" in ok(tmp_path, "db", "downgrade", "plait_admin@base")

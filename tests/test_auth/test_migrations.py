"""Plait's shipped auth migrations through real ``plait db`` commands, on SQLite and PostgreSQL.

Each command runs in a subprocess: the project's models must be the only ones on ``Model.metadata``
(in the test process, every imported test module adds its own tables there).
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

from plait.auth import Auth
from plait.db import Model
from plait.db.engine import sync_url
from tests.services import POSTGRES_ADMIN_URL

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from plait.auth import User
from plait.db import Model


class Member(User):
    __tablename__ = "member"
    id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(String(500), default="")


class Article(Model):
    __tablename__ = "article"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
"""

APP = """
from plait import Plait
from plait.auth import Auth
from plait.db import Database

from proj_models import Member

app = Plait(extensions=[Database({url!r}), Auth(user_model=Member)])
"""


async def _admin(sql: str) -> None:
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
    name = f"plait_auth_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'create database "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def project(tmp_path: Path, empty_url: str) -> Path:
    (tmp_path / "proj_models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "app.py").write_text(APP.format(url=empty_url), encoding="utf-8")
    return tmp_path


def plait(project: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    # Auth builds its token codec at startup, so the app needs a secret key even for `plait db`.
    env = {**os.environ, "PLAIT_APP": "app.py", "PYTHONPATH": str(project), "PLAIT_SECRET_KEY": "migrations-test-key"}
    if password is not None:
        env["PLAIT_SUPERUSER_PASSWORD"] = password
    code = "from plait.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def ok(project: Path, *args: str, password: str | None = None) -> str:
    result = plait(project, *args, password=password)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def tables(url: str) -> set[str]:
    engine = create_engine(sync_url(make_url(url)))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_plait_db_applies_the_shipped_auth_migrations_and_leaves_them_out_of_the_project(
    project: Path, empty_url: str
) -> None:
    ok(project, "db", "init")
    applied = ok(project, "db", "migrate")
    assert "Applied plait_auth_0001" in applied
    assert Auth.migrations_tables <= tables(empty_url)

    created = ok(project, "db", "makemigrations", "-m", "members")
    path = Path(re.search(r"Created (\S+\.py)", created).group(1))  # type: ignore[union-attr]
    assert path.parent == project / "migrations" / "versions"
    source = path.read_text(encoding="utf-8")
    # Only the project's tables: the auth tables are the battery's, created by its own revision.
    assert re.findall(r"op\.create_table\('(\w+)'", source) == ["article", "member"]
    assert "depends_on: str | Sequence[str] | None = 'plait_auth_0001'" in source
    assert "down_revision: str | Sequence[str] | None = None" in source

    assert "(members)" in ok(project, "db", "migrate")
    assert {"article", "member"} <= tables(empty_url)
    assert "The models match the migrations" in ok(project, "db", "check")
    assert ok(project, "db", "makemigrations").strip().endswith("No changes detected.")

    # The custom user model works end to end: a superuser is a Member, with rows in both tables.
    assert "Superuser 'root' created" in ok(
        project, "createsuperuser", "--no-input", "--username", "root", "--email", "root@example.com",
        password="a long enough passphrase",
    )  # fmt: skip

    second = ok(project, "db", "makemigrations", "-m", "second")
    assert second.strip().endswith("No changes detected.")
    (project / "proj_models.py").write_text(MODELS + "    title: Mapped[str | None]\n", encoding="utf-8")
    later = Path(re.search(r"Created (\S+\.py)", ok(project, "db", "makemigrations", "-m", "title")).group(1))  # type: ignore[union-attr]
    later_source = later.read_text(encoding="utf-8")
    first_rev = re.search(r"Revision ID: (\w+)", source).group(1)  # type: ignore[union-attr]
    assert f"down_revision: str | Sequence[str] | None = '{first_rev}'" in later_source
    assert "auth_user" not in later_source.split("def upgrade")[1].split("def downgrade")[0].replace(
        "'auth_user.id'", ""
    )
    ok(project, "db", "migrate")
    history = ok(project, "db", "history")
    assert "plait_auth_0001 (plait_auth)" in history

    # Back one step at a time reverts the project's revisions; base reverts everything.
    assert "Reverted" in ok(project, "db", "downgrade")
    assert "Reverted plait_auth_0001" in ok(project, "db", "downgrade", "base")
    assert not (Auth.migrations_tables | {"member", "article"}) & tables(empty_url)


def test_the_shipped_migration_matches_the_models(empty_url: str, tmp_path: Path) -> None:
    """Autogenerate, comparing the migrated database with the auth models, finds nothing to change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    project = tmp_path
    (project / "proj_models.py").write_text("", encoding="utf-8")
    (project / "app.py").write_text(APP.replace("from proj_models import Member\n", "").replace(
        "Auth(user_model=Member)", "Auth()").format(url=empty_url), encoding="utf-8")  # fmt: skip
    ok(project, "db", "init")
    ok(project, "db", "migrate")
    metadata = MetaData(naming_convention=Model.metadata.naming_convention)
    for name in sorted(Auth.migrations_tables):
        Model.metadata.tables[name].to_metadata(metadata)
    engine = create_engine(sync_url(make_url(empty_url)))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, metadata) if not _is_version_table(d)]
    finally:
        engine.dispose()
    assert diffs == []


def _is_version_table(diff: object) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"


OWN_MODELS = """
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait.db.models import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int]
"""

OWN_APP = """
from plait import Plait
from plait.auth import Auth
from plait.db import Database

from own_models import Base

app = Plait(extensions=[Database({url!r}, metadata=Base.metadata), Auth()])
"""


def test_in_process_with_metadata_of_the_projects_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project whose metadata lacks the auth tables: autogenerate must not drop what the battery created."""
    from click.testing import CliRunner

    from plait.cli import main

    url = f"sqlite:///{tmp_path / 'own.db'}"
    (tmp_path / "own_models.py").write_text(OWN_MODELS, encoding="utf-8")
    (tmp_path / "own_app.py").write_text(OWN_APP.format(url=url), encoding="utf-8")
    monkeypatch.setenv("PLAIT_APP", str(tmp_path / "own_app.py"))
    monkeypatch.setenv("PLAIT_SECRET_KEY", "migrations-test-key")  # Auth builds its token codec at startup
    monkeypatch.syspath_prepend(str(tmp_path))

    def run(*args: str) -> str:
        for name in ("own_app", "own_models"):
            sys.modules.pop(name, None)
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "init")
    env = tmp_path / "migrations" / "env.py"
    # A project's own include_object still applies, after the battery's tables are left out.
    env.write_text(
        env.read_text(encoding="utf-8").replace(
            "compare_type=True,", "compare_type=True, include_object=lambda o, n, k, r, c: n != 'ignored',"
        ),
        encoding="utf-8",
    )
    assert "Applied plait_auth_0001" in run("db", "migrate")
    first = Path(re.search(r"Created (\S+\.py)", run("db", "makemigrations", "-m", "notes")).group(1))  # type: ignore[union-attr]
    source = first.read_text(encoding="utf-8")
    assert "op.create_table('note'" in source
    assert "drop_table" not in source.split("def downgrade")[0]  # nothing of auth_user & co. is dropped
    assert "= 'plait_auth_0001'" in source
    run("db", "migrate")
    assert "The models match the migrations" in run("db", "check")

    # Two heads of the project's own: makemigrations says how to merge them.
    (first.parent / "0000_other.py").write_text(
        'revision = "other1"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n'
        "def upgrade() -> None:\n    pass\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    for name in ("own_app", "own_models"):
        sys.modules.pop(name, None)
    run("db", "migrate")
    result = CliRunner().invoke(main, ["db", "makemigrations", "-m", "more"])
    assert result.exit_code == 1
    assert "merge them first" in result.output

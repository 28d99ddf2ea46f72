"""``plait db init / makemigrations / migrate / downgrade / history / current / check`` on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData

from plait import Plait
from plait.cli import main
from plait.db import Database, Model
from plait.db.migrations import describe
from plait.exceptions import ConfigurationError
from tests.test_db.conftest import POSTGRES_URL

MODELS_V1 = """
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait.db.models import NAMING_CONVENTION, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    created = mapped_column(UTCDateTime(), nullable=True)
"""

# The change: a new column, and a longer name (a type change SQLite can only make by copying the table).
MODELS_V2 = MODELS_V1.replace("String(50)", "String(80)") + "    price: Mapped[int | None]\n"

APP = """
from plait import Plait
from plait.db import Database

from mig_models import Base

app = Plait(extensions=[Database({url!r}, metadata=Base.metadata)])
"""

_databases = itertools.count()


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database for this test (dropped afterwards).

    A database of its own keeps Alembic's version table and autogenerate's view of the schema apart
    from other tests and from concurrent runs.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    request.getfixturevalue("postgres_server")
    name = f"plait_migrations_{os.getpid()}_{next(_databases)}"
    asyncio.run(_admin(f"drop database if exists {name}"))
    asyncio.run(_admin(f"create database {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f"drop database if exists {name} with (force)"))


@pytest.fixture
def project(tmp_path: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """app.py and mig_models.py in a folder, named by PLAIT_APP."""
    (tmp_path / "mig_models.py").write_text(MODELS_V1, encoding="utf-8")
    (tmp_path / "app.py").write_text(APP.format(url=fresh_url), encoding="utf-8")
    monkeypatch.setenv("PLAIT_APP", str(tmp_path / "app.py"))
    saved_path = list(sys.path)
    yield tmp_path
    sys.path[:] = saved_path
    _forget()


def _forget() -> None:
    for name in ("app", "mig_models"):
        sys.modules.pop(name, None)


def plait(*args: str) -> Result:
    """Run ``plait ...`` in-process, importing the project afresh (its models may have changed)."""
    _forget()
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> str:
    result = plait(*args)
    assert result.exit_code == 0, result.output
    return result.output


def revision_of(output: str) -> str:
    match = re.search(r"-([0-9a-f]{12})_", output)
    assert match, output
    return match.group(1)


def test_the_whole_cycle(project: Path) -> None:
    assert "Created " in ok("db", "init")
    assert sorted(p.name for p in (project / "migrations").iterdir()) == [
        "alembic.ini",
        "env.py",
        "script.py.mako",
        "versions",
    ]
    first = ok("db", "makemigrations", "-m", "create items")
    assert re.search(r"Created .*versions/\d{4}_\d\d_\d\d_\d{4}-[0-9a-f]{12}_create_items\.py", first)
    source = next((project / "migrations" / "versions").glob("*.py")).read_text(encoding="utf-8")
    assert "op.create_table('items'" in source or 'op.create_table("items"' in source
    assert "import plait.db.models" in source  # the custom column type's module is imported by the file
    assert "uq_items_name" in source  # the naming convention reached the migration

    pending = plait("db", "check")
    assert pending.exit_code == 1
    assert "The models differ from the migrations" not in pending.output
    assert "Target database is not up to date" in pending.output
    assert "plait db migrate" in pending.output

    rev1 = revision_of(first)
    assert f"Applied {rev1} (create items)" in ok("db", "migrate")
    assert f"{rev1} (head)" in ok("db", "current")
    assert f"The models match the migrations (head {rev1})" in ok("db", "check")
    assert ok("db", "makemigrations").strip() == "No changes detected."
    assert len(list((project / "migrations" / "versions").glob("*.py"))) == 1

    (project / "mig_models.py").write_text(MODELS_V2, encoding="utf-8")
    changed = plait("db", "check")
    assert changed.exit_code == 1
    assert "The models differ from the migrations:" in changed.output
    assert "add_column items.price" in changed.output
    assert "modify_type items.name: VARCHAR(length=50) -> String(length=80)" in changed.output
    assert "plait db makemigrations" in changed.output

    rev2 = revision_of(ok("db", "makemigrations", "-m", "add price"))
    assert f"Applied {rev2} (add price)" in ok("db", "migrate")
    assert "The models match the migrations" in ok("db", "check")

    assert f"Reverted {rev2} (add price)" in ok("db", "downgrade")
    assert f"{rev1} (head)" not in ok("db", "current")
    assert rev1 in ok("db", "current")
    assert "Target database is not up to date" in plait("db", "check").output  # behind the migrations

    history = ok("db", "history")
    assert history.splitlines() == [f"{rev1} -> {rev2} (head), add price", f"<base> -> {rev1}, create items"]
    assert f"Reverted {rev1}" in ok("db", "downgrade", "base")
    assert "No migration applied yet" in ok("db", "current")


def test_makemigrations_refuses_while_the_database_is_behind(project: Path) -> None:
    ok("db", "init")
    ok("db", "makemigrations", "-m", "first")
    result = plait("db", "makemigrations", "-m", "second")
    assert result.exit_code == 1
    assert "Target database is not up to date. Apply the migrations first: plait db migrate" in result.output


def test_migrate_sql_prints_the_statements_without_running_them(project: Path) -> None:
    ok("db", "init")
    ok("db", "makemigrations", "-m", "create items")
    assert "CREATE TABLE items" in ok("db", "migrate", "--sql")
    assert "No migration applied yet" in ok("db", "current")


def test_alembic_itself_runs_the_same_files(project: Path) -> None:
    ok("db", "init")
    rev = revision_of(ok("db", "makemigrations", "-m", "create items"))
    alembic = [sys.executable, "-m", "alembic", "-c", "migrations/alembic.ini"]
    env = {**os.environ, "PLAIT_APP": "app:app"}
    done = subprocess.run([*alembic, "upgrade", "head"], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"Applied {rev} (create items)" in done.stdout
    assert f"{rev} (head)" in ok("db", "current")
    env.pop("PLAIT_APP")
    refused = subprocess.run([*alembic, "current"], cwd=project, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "set PLAIT_APP=myproject.app:app" in refused.stderr


def test_alembics_api_finds_the_app_through_plait_app(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, as a script calling alembic.command would: env.py imports PLAIT_APP and opens its own engine."""
    from alembic import command
    from alembic.config import Config

    ok("db", "init")
    rev = revision_of(ok("db", "makemigrations", "-m", "create items"))
    monkeypatch.chdir(project)
    monkeypatch.setenv("PLAIT_APP", "app")  # the attribute defaults to app
    _forget()
    output = io.StringIO()
    command.upgrade(Config("migrations/alembic.ini", stdout=output), "head")
    assert f"Applied {rev} (create items)" in output.getvalue()
    assert f"{rev} (head)" in ok("db", "current")
    monkeypatch.delenv("PLAIT_APP")
    with pytest.raises(ConfigurationError, match=r"set PLAIT_APP=myproject\.app:app"):
        command.current(Config("migrations/alembic.ini", stdout=output))


def test_mistakes_are_explained(project: Path, tmp_path: Path) -> None:
    for command in (["makemigrations"], ["migrate"], ["downgrade"], ["history"], ["current"]):
        result = plait("db", *command)
        assert result.exit_code == 1
        assert f"No migrations folder at {tmp_path / 'migrations'}; create it with: plait db init" in result.output
    assert "there is nothing to compare (plait db init)" in ok("db", "check")
    ok("db", "init")
    nothing = plait("db", "downgrade")
    assert nothing.exit_code == 1
    assert "Relative revision -1 didn't produce 1 migrations" in nothing.output  # Alembic's own words
    again = plait("db", "init")
    assert again.exit_code == 1
    assert "already exists and is not empty" in again.output
    unknown = plait("db", "migrate", "nope")
    assert unknown.exit_code == 1
    assert "Can't locate revision identified by 'nope'" in unknown.output
    assert "plait db history" in unknown.output


def test_an_unreachable_database_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mig_models.py").write_text(MODELS_V1, encoding="utf-8")
    (tmp_path / "app.py").write_text(APP.format(url=f"sqlite:///{tmp_path / 'no' / 'x.db'}"), encoding="utf-8")
    monkeypatch.setenv("PLAIT_APP", str(tmp_path / "app.py"))
    saved_path = list(sys.path)
    try:
        (tmp_path / "migrations").mkdir()
        assert plait("db", "init").exit_code == 0  # an empty folder is fine
        result = plait("db", "migrate")
        assert result.exit_code == 1
        assert "Cannot reach sqlite+aiosqlite:///" in result.output
        assert "unable to open database file" in result.output
    finally:
        sys.path[:] = saved_path
        _forget()


def test_the_folder_and_the_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAIT_DATABASE_MIGRATIONS", raising=False)
    here = Path(__file__).resolve().parent
    default = Database("sqlite:///:memory:")
    Plait(extensions=[default]).build()
    assert default.migrations == here / "migrations"  # next to the module that created the Database
    assert default.metadata is Model.metadata
    monkeypatch.setenv("PLAIT_DATABASE_MIGRATIONS", "db/migrations")
    from_env = Database("sqlite:///:memory:")
    Plait(extensions=[from_env]).build()
    assert from_env.migrations == here / "db" / "migrations"
    metadata = MetaData()
    given = Database(metadata=metadata, migrations=tmp_path / "m")
    Plait(extensions=[given]).build()
    assert given.migrations == tmp_path / "m"  # the argument wins over the variable
    assert given.metadata is metadata


def test_differences_are_described_in_words() -> None:
    assert describe(("remove_index", type("Index", (), {"name": "ix_items_name"})())) == "remove_index ix_items_name"
    assert describe(("add_fk", "unnamed")) == "add_fk unnamed"

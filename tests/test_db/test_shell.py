"""``plait shell`` with ``Database`` installed: ``db``, ``engine``, ``select`` and the models by class name."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plait.cli import main

# One table per test process: runs may share the PostgreSQL test database.
TABLE = f"plait_shell_notes_{os.getpid()}"

APP = f"""
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plait import Plait
from plait.db import Database


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = {TABLE!r}

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


db = Database({{url!r}}, metadata=Base.metadata)
app = Plait(extensions=[db])


@app.on_startup
async def tables() -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
"""

DROP = "async with engine.begin() as c:\n    await c.run_sync(Note.metadata.drop_all)\n"


@pytest.fixture
def shell_app(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "shell_app.py"
    path.write_text(APP.format(url=database_url), encoding="utf-8")
    monkeypatch.setenv("PLAIT_APP", str(path))
    saved_path = list(sys.path)
    yield path
    sys.modules.pop("shell_app", None)
    invoke("-c", DROP)
    sys.path[:] = saved_path
    sys.modules.pop("shell_app", None)


def invoke(*args: str, stdin: str | None = None) -> Result:
    sys.modules.pop("shell_app", None)
    return CliRunner().invoke(main, ["shell", *args], input=stdin)


def test_the_session_and_the_models_are_loaded(shell_app: Path) -> None:
    code = (
        "db.add(Note(text='hello'))\n"
        "await db.commit()\n"
        "count = await db.scalar(select(func.count()).select_from(Note))\n"
        "print(count, type(db).__name__, engine.dialect.name == database.url.get_backend_name())\n"
    )
    result = invoke("-c", code)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 AsyncSession True"


def test_the_repl_awaits_queries(shell_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("plait.cli.shell.has_ipython", lambda: False)  # the standard REPL without --plain
    typed = "db.add(Note(text='typed'))\nawait db.flush()\n(await db.scalars(select(Note.text))).all()\n"
    result = invoke(stdin=typed)
    assert result.exit_code == 0, result.output
    assert "Plait shell: app, settings, Note, db, engine, database, select, func" in result.output
    assert "['typed']" in result.output

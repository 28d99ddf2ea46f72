"""``plait db check``: a command the ``plait`` CLI finds in the app's extensions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from plait.cli import main

APP = """
from plait import Plait
from plait.db import Database

app = Plait(extensions=[Database({url!r})])
"""


@pytest.fixture(autouse=True)
def _forget_imported_apps() -> Iterator[None]:
    """Each test writes its own app.py; drop the imported one (and its sys.path entry) afterwards."""
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        if not name.startswith(("plait", "sqlalchemy", "aiosqlite", "asyncpg")):
            del sys.modules[name]


def write_app(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "app.py"
    path.write_text(APP.format(url=url), encoding="utf-8")
    return path


def test_db_check_reports_the_server(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_APP", str(write_app(tmp_path, database_url)))
    result = CliRunner().invoke(main, ["db", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK ")
    assert ("sqlite 3." in result.output) or ("postgresql 15" in result.output or "postgresql 1" in result.output)


def test_db_check_fails_when_the_database_is_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_APP", str(write_app(tmp_path, f"sqlite:///{tmp_path / 'nope' / 'x.db'}")))
    result = CliRunner().invoke(main, ["db", "check"])
    assert result.exit_code == 1
    assert "Cannot reach sqlite+aiosqlite:///" in result.output
    assert "unable to open database file" in result.output


def test_extension_commands_are_listed_and_unknown_ones_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_app(tmp_path, "sqlite:///x.db")  # found as app.py here, without PLAIT_APP
    monkeypatch.delenv("PLAIT_APP", raising=False)
    assert "  db " in CliRunner().invoke(main, ["--help"]).output
    result = CliRunner().invoke(main, ["dbx"])
    assert result.exit_code == 2
    assert "No such command 'dbx' (the app's extensions add: db)" in result.output


def test_without_an_app_the_error_says_how_to_name_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLAIT_APP", raising=False)
    assert "Commands:" in CliRunner().invoke(main, ["--help"]).output
    result = CliRunner().invoke(main, ["db", "check"])
    assert result.exit_code == 1
    assert "no app was found" in result.output
    assert "PLAIT_APP=myproject.app:app" in result.output


def test_a_misconfigured_app_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_APP", str(write_app(tmp_path, "mysql://x/y")))
    result = CliRunner().invoke(main, ["db", "check"])
    assert result.exit_code == 1
    assert "is misconfigured" in result.output
    assert "Plait supports postgresql://" in result.output


def test_a_non_plait_app_has_no_extension_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "raw.py"
    path.write_text("async def app(scope, receive, send):\n    pass\n", encoding="utf-8")
    monkeypatch.setenv("PLAIT_APP", str(path))
    result = CliRunner().invoke(main, ["db", "check"])
    assert result.exit_code == 1
    assert "is not a Plait app, so it has no extension commands" in result.output

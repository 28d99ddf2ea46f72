"""``plait createsuperuser`` and ``plait changepassword`` (in-process; the subprocess runs are in test_migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import Auth, User
from plait.auth.cli import PASSWORD_VAR, changepassword, createsuperuser
from tests.test_auth.conftest import FAST, create_tables, make_app


@pytest.fixture
def app(tmp_path: Path) -> Plait[Any]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    create_tables(url)
    return make_app(url, auth=Auth(settings=FAST), router=False, manage_tables=False)


def run(app: Plait[Any], command: Any, *args: str, input: str | None = None, password: str | None = None) -> Result:
    env = {PASSWORD_VAR: password} if password is not None else {}
    return CliRunner().invoke(command, list(args), obj=app, input=input, env=env)


def users(app: Plait[Any]) -> list[Any]:
    async def fetch() -> list[Any]:
        async with app.running(), AsyncSession(app.extensions["database"].engine) as db:
            return list((await db.execute(select(User).order_by(User.id))).scalars())

    return anyio.run(fetch)


NO_INPUT = ("--no-input", "--username", "root", "--email", "Root@Example.com")


def test_createsuperuser_without_input(app: Plait[Any]) -> None:
    result = run(app, createsuperuser, *NO_INPUT, password="a long enough passphrase")
    assert result.exit_code == 0, result.output
    assert "Superuser 'root' created" in result.output
    [root] = users(app)
    assert (root.username, root.email, root.is_staff, root.is_superuser) == ("root", "root@example.com", True, True)
    assert app.extensions["auth"].hasher.verify(root.password, "a long enough passphrase")
    again = run(app, createsuperuser, *NO_INPUT, password="a long enough passphrase")
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_createsuperuser_without_input_checks_what_it_needs(app: Plait[Any]) -> None:
    missing = run(app, createsuperuser, "--no-input", "--username", "root", password="a long enough passphrase")
    assert missing.exit_code == 2
    assert PASSWORD_VAR in missing.output
    weak = run(app, createsuperuser, *NO_INPUT, password="password")
    assert weak.exit_code == 1
    assert "too common" in weak.output
    assert users(app) == []


def test_createsuperuser_asks_until_the_password_is_good(app: Plait[Any]) -> None:
    answers = "ada\nada@example.com\nshort\nshort\nfine passphrase\nother\nfine passphrase\nfine passphrase\n"
    result = run(app, createsuperuser, input=answers)
    assert result.exit_code == 0, result.output
    assert "too short" in result.output
    assert "do not match" in result.output
    assert [u.username for u in users(app)] == ["ada"]


def test_changepassword(app: Plait[Any]) -> None:
    run(app, createsuperuser, *NO_INPUT, password="a long enough passphrase")
    changed = run(app, changepassword, "root", input="root1234\nroot1234\nbrand new phrase\nbrand new phrase\n")
    assert changed.exit_code == 0, changed.output
    assert "too similar" in changed.output
    assert "Password changed for 'root'" in changed.output
    [root] = users(app)
    assert app.extensions["auth"].hasher.verify(root.password, "brand new phrase")
    unknown = run(app, changepassword, "nobody")
    assert unknown.exit_code == 1
    assert "No user named 'nobody'" in unknown.output


def test_missing_tables_say_to_migrate(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}", router=False, manage_tables=False)
    result = run(app, createsuperuser, *NO_INPUT, password="a long enough passphrase")
    assert result.exit_code == 1
    assert "plait db migrate" in result.output

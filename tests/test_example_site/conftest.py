"""The Notebook example (examples/site/app.py) on SQLite, migrated with its real migrations.

The app module is imported once per test session (its ``Note`` model can be declared only once)
with the environment a deployment would give it: a database URL, a secret key, and cheap
password hashing so that logging in many times stays fast (the rules still apply). Every test
starts from empty tables and a client without cookies.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plait.testing import TestClient

SITE = Path(__file__).resolve().parents[2] / "examples" / "site"
MODULE = "plait_example_site"
ENVIRONMENT = {
    "PLAIT_SECRET_KEY": "notebook tests: a secret key nobody else uses",
    "PLAIT_AUTH_ARGON2_TIME_COST": "1",
    "PLAIT_AUTH_ARGON2_MEMORY_COST": "8",
    "PLAIT_AUTH_ARGON2_PARALLELISM": "1",
}
PASSWORD = "correct horse battery staple"
TABLES = ("note", "auth_throttle", "auth_user")  # children first: deleting never trips a foreign key
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def load_site(database_url: str) -> Any:
    """Import examples/site/app.py under its own module name and build the app in ``ENVIRONMENT``."""
    spec = importlib.util.spec_from_file_location(MODULE, SITE / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module  # msgspec and SQLAlchemy resolve the annotations through sys.modules
    with pytest.MonkeyPatch.context() as patch:
        # Settings are read when the app is built; afterwards the environment is put back, so that the
        # rest of the test session never sees this database or key.
        for name, value in {**ENVIRONMENT, "PLAIT_DATABASE_URL": database_url}.items():
            patch.setenv(name, value)
        spec.loader.exec_module(module)
        module.app.build()
    return module


def migrate(app: Any) -> None:
    """What ``plait db migrate`` does: the auth battery's revisions, then the example's own."""
    from alembic import command

    from plait.db import migrations

    config = migrations.config_for(app.extensions["database"], io.StringIO())
    migrations.run_connected(config, lambda cfg: command.upgrade(cfg, "heads"))


@pytest.fixture(scope="session")
def database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebook") / "notebook.sqlite3"


@pytest.fixture(scope="session")
def site(database_file: Path) -> Iterator[Any]:
    module = load_site(f"sqlite:///{database_file}")
    migrate(module.app)
    try:
        yield module
    finally:
        del sys.modules[MODULE]


@pytest.fixture(scope="session")
def session_client(site: Any) -> Iterator[TestClient]:
    with TestClient(site.app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(session_client: TestClient, database_file: Path) -> TestClient:
    with sqlite3.connect(database_file) as connection:
        for table in TABLES:
            connection.execute(f"delete from {table}")  # noqa: S608 - fixed table names
    session_client.cookies.clear()
    return session_client


@pytest.fixture
def users(client: TestClient, site: Any, database_file: Path) -> dict[str, int]:
    """Two accounts, ada (who writes the notes) and grace, both with ``PASSWORD``; their ids by name."""
    hashed = site.app.extensions["auth"].hasher.hash(PASSWORD)
    ids = {}
    with sqlite3.connect(database_file) as connection:
        for name in ("ada", "grace"):
            row = connection.execute(
                "insert into auth_user (username, email, password) values (?, ?, ?) returning id",
                (name, f"{name}@example.com", hashed),
            ).fetchone()
            ids[name] = row[0]
    return ids


def csrf_token(client: TestClient, path: str) -> str:
    """The token of the first form on the page at ``path``, as a browser would submit it."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = _TOKEN.search(response.text)
    assert found is not None, f"no CSRF field on {path}"
    return found.group(1)


def log_in(client: TestClient, name: str, next_url: str | None = None) -> Any:
    """Log in through the login page; returns the response to the form's POST."""
    path = "/login" if next_url is None else f"/login?next={next_url}"
    data = {"email": f"{name}@example.com", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    return client.post(path, data=data)


def add_note(client: TestClient, title: str = "Groceries", body: str = "Tea, bread, plums.") -> int:
    """Create a note through the form (the client is logged in); its id."""
    data = {"title": title, "body": body, "csrf_token": csrf_token(client, "/notes/new")}
    response = client.post("/notes/new", data=data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])

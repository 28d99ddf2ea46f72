"""The app as a whole: its migrations match its models, the demo data, the admin, CORS, the command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from plait.settings import Settings
from plait.testing import TestClient
from tests.test_conduit.conftest import EXAMPLES, FAST_HASHING, SECRET, conduit_module
from tests.test_conduit.helpers import PASSWORD, register


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_migrations_match_the_models(tmp_path: Path) -> None:
    # Through the commands a project runs, in a process of their own: this test process has many
    # other test modules' tables in plait.db.Model's metadata, which a real project never has.
    plait = Path(sys.executable).parent / "plait"
    env = {
        **os.environ,
        "PLAIT_APP": "conduit/app.py",
        "PLAIT_SECRET_KEY": SECRET,
        "PLAIT_DATABASE_URL": f"sqlite:///{tmp_path / 'conduit.sqlite3'}",
    }
    for command in (["db", "migrate"], ["db", "check"]):
        done = subprocess.run(
            [str(plait), *command], cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def seed(database_url: str) -> str:
    """``plait conduit seed`` on a fresh app for ``database_url`` (as ``make demo`` runs it); its output."""
    app = conduit_module("app").create_app(database_url, settings=Settings(secret_key=SECRET), auth=FAST_HASHING)
    result = CliRunner().invoke(conduit_module("cli").conduit_group, ["seed"], obj=app)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def seeded(client: TestClient, database_url: str) -> TestClient:
    assert "Demo data added" in seed(database_url)
    return client


def test_the_demo_data(seeded: TestClient, database_url: str) -> None:
    client = seeded
    assert "no demo data added" in seed(database_url)  # only into an empty database: a restart adds nothing
    articles = client.get("/api/articles").json()
    assert articles["articlesCount"] == 4
    assert client.get("/api/tags").json()["tags"][:2] == ["history", "process"]
    comments = client.get("/api/articles/a-nanosecond-is-this-long/comments").json()["comments"]
    assert len(comments) == 2
    favorited = client.get("/api/articles", params={"favorited": "ada"}).json()["articles"]
    assert {article["slug"] for article in favorited} == {"a-nanosecond-is-this-long", "release-early-release-often"}
    seed_module = conduit_module("seed")
    login = {"user": {"email": seed_module.ADMIN["email"], "password": seed_module.PASSWORD}}
    token = client.post("/api/users/login", json=login).json()["user"]["token"]
    feed = client.get("/api/articles/feed", headers={"Authorization": f"Token {token}"}).json()
    assert feed["articlesCount"] == 0  # the admin follows nobody


def test_every_model_is_in_the_admin_for_staff_only(seeded: TestClient, conduit_app: Any) -> None:
    client = seeded
    registry = conduit_app.extensions["admin"].registry
    models = conduit_module("models")
    expected = {
        models.Article,
        models.ArticleTag,
        models.Comment,
        models.Favorite,
        models.Follow,
        models.Member,
        models.Tag,
    }
    assert {entry.model for entry in registry.values()} == expected
    seed_module = conduit_module("seed")
    page = client.get("/admin/login")
    form = {"username": seed_module.ADMIN["email"], "password": seed_module.PASSWORD, "csrf_token": csrf(page.text)}
    assert client.post("/admin/login", data=form).status_code == 200
    for key in registry:
        response = client.get(f"/admin/{key}")
        assert response.status_code == 200, key
    listing = client.get("/admin/article", params={"q": "Analytical"}).text
    found = re.search(r'href="(/admin/article/\d+/change)"', listing)
    assert found is not None
    article = client.get(found.group(1))
    assert article.status_code == 200
    assert "Notes on the Analytical Engine" in article.text
    member = re.search(r'href="(/admin/member/\d+/change)"', client.get("/admin/member").text)
    assert member is not None
    assert "$argon2" not in client.get(member.group(1)).text  # the password hash is never shown
    client.cookies.clear()
    register(client, "plain")
    page = client.get("/admin/login")
    form = {"username": "plain@example.com", "password": PASSWORD, "csrf_token": csrf(page.text)}
    client.post("/admin/login", data=form)
    assert client.get("/admin/article", follow_redirects=False).status_code in (302, 303, 403)


def test_browsers_on_other_origins_may_call_the_api(client: TestClient) -> None:
    preflight = client.options(
        "/api/articles",
        headers={
            "Origin": "https://frontend.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "credentials" not in " ".join(preflight.headers)  # tokens, never the visitor's cookies
    simple = client.get("/api/tags", headers={"Origin": "https://frontend.example"})
    assert simple.headers["access-control-allow-origin"] == "*"


def test_the_app_offers_the_seed_command(conduit_app: Any) -> None:
    assert conduit_app.extensions["conduit"].commands() == [conduit_module("cli").conduit_group]


def test_the_seed_command_prints_the_superuser(client: TestClient, database_url: str) -> None:
    assert "Demo superuser: admin@conduit.example / " in seed(database_url)


def test_the_documented_examples_hold() -> None:
    import doctest

    for name in ("markdown", "services", "api.errors"):
        failures, tried = doctest.testmod(conduit_module(name))
        assert tried > 0, name
        assert failures == 0, name

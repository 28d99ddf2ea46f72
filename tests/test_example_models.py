"""The model-driven example (examples/models/app.py): model -> migration -> CRUD API -> OpenAPI, as a user runs it."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from plait.testing import TestClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "models" / "app.py"
PLAIT = Path(sys.executable).with_name("plait")
PASSWORD = "example superuser password"


def plait(project: Path, *args: str) -> str:
    """``plait ...`` in a fresh interpreter, as a user types it in the project folder."""
    env = {
        **os.environ,
        "PLAIT_APP": "app.py",
        "PLAIT_SUPERUSER_PASSWORD": PASSWORD,
        "PLAIT_SECRET_KEY": "example-models-secret",
    }
    env.pop("PLAIT_DATABASE_URL", None)
    env.pop("PLAIT_DATABASE_MIGRATIONS", None)
    done = subprocess.run(
        [str(PLAIT), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example in a folder of its own, migrated as the docstring says."""
    folder = tmp_path_factory.mktemp("models_example")
    shutil.copy(EXAMPLE, folder / "app.py")
    plait(folder, "db", "init")
    plait(folder, "db", "migrate")  # the auth tables first: makemigrations wants an up-to-date database
    plait(folder, "db", "makemigrations", "-m", "create articles")
    plait(folder, "db", "migrate")
    plait(folder, "createsuperuser", "--no-input", "--username", "ada", "--email", "ada@example.com")
    return folder


@pytest.fixture(scope="module")
def example(project: Path) -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("plait_example_models", project / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    saved = os.environ.pop("PLAIT_DATABASE_URL", None)
    secret = os.environ.get("PLAIT_SECRET_KEY")
    os.environ["PLAIT_SECRET_KEY"] = "example-models-secret"  # tokens are signed with it (plait run makes one)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        os.environ.pop("PLAIT_SECRET_KEY")
        if secret is not None:
            os.environ["PLAIT_SECRET_KEY"] = secret
        del sys.modules[spec.name]
        if saved is not None:
            os.environ["PLAIT_DATABASE_URL"] = saved


def test_the_migration_was_generated_from_the_model(project: Path) -> None:
    (migration,) = (project / "migrations" / "versions").glob("*_create_articles.py")
    source = migration.read_text(encoding="utf-8")
    assert "create_table" in source
    assert "'articles'" in source.replace('"', "'")
    assert "uq_articles_title" in source
    assert (project / "db.sqlite3").exists()


def test_the_crud_api_over_the_migrated_table(example: ModuleType) -> None:
    with TestClient(example.app) as client:
        assert client.post("/articles", json={"title": "Hello"}).status_code == 401  # writing needs a login
        form = {"grant_type": "password", "username": "ada@example.com", "password": PASSWORD}
        client.headers["Authorization"] = "Bearer " + client.post("/auth/token", data=form).json()["access_token"]
        created = client.post("/articles", json={"title": "Hello"})
        assert created.status_code == 201
        location = created.headers["location"]
        assert client.patch(location, json={"published": True}).json()["published"] is True
        assert client.post("/articles", json={"title": "Hello"}).status_code == 409
        client.post("/articles", json={"title": "World"})
        page = client.get("/articles", params={"title__contains": "hell"}).json()
        assert ([a["title"] for a in page["items"]], page["total"]) == (["Hello"], 1)
        assert [a["title"] for a in client.get("/articles").json()["items"]] == ["World", "Hello"]
        assert client.get("/articles", params={"password": "x"}).status_code == 400
        assert client.delete(location).status_code == 204
        assert client.get(location).status_code == 404


def test_the_admin_lists_the_articles(example: ModuleType) -> None:
    with TestClient(example.app) as client:
        assert client.get("/admin/articles", follow_redirects=False).status_code in (302, 303)  # log in first
        page = client.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        login = {"username": "ada@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/admin/login", data=login, headers={"origin": "http://testserver"}).status_code == 200
        listing = client.get("/admin/articles")
        assert listing.status_code == 200
        assert "Add article" in listing.text


def test_the_openapi_document(example: ModuleType) -> None:
    with TestClient(example.app) as client:
        document = client.get("/openapi.json").json()
    assert {"/articles", "/articles/{id}", "/auth/token"} <= set(document["paths"])
    assert "security" in document["paths"]["/articles"]["post"]
    assert "security" not in document["paths"]["/articles"]["get"]
    assert {"ArticleRead", "ArticleCreate", "ArticleUpdate", "ArticleReadPage"} <= set(
        document["components"]["schemas"]
    )


def test_the_example_is_under_forty_lines_of_code() -> None:
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    code = EXAMPLE.read_text(encoding="utf-8").replace(docstring, "")
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith(("#", '"""'))]
    assert len(lines) < 40

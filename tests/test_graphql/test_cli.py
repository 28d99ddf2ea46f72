"""``plait graphql schema`` prints SDL; ``plait graphql check`` fails when it differs from the committed file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plait.cli.main import main

APP = """
import strawberry
from plait import Plait
from plait.graphql import GraphQL

@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

app = Plait()
app.install(GraphQL(strawberry.Schema(query=Query)))
"""
SDL = "type Query {\n  hello: String!\n}\n"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "models"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "gqlcliapp.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PLAIT_APP", "gqlcliapp:app")
    return tmp_path


def test_schema_prints_sdl(project: Path) -> None:
    result = CliRunner().invoke(main, ["graphql", "schema"])
    assert (result.exit_code, result.output) == (0, SDL)
    named = CliRunner().invoke(main, ["graphql", "schema", "gqlcliapp:app"])
    assert named.output == SDL


def test_check_compares_with_the_committed_file(project: Path) -> None:
    missing = CliRunner().invoke(main, ["graphql", "check"])
    assert missing.exit_code == 1
    assert "plait graphql schema > schema.graphql" in missing.output
    (project / "schema.graphql").write_text(SDL, encoding="utf-8")
    ok = CliRunner().invoke(main, ["graphql", "check", "gqlcliapp:app", "--file", "schema.graphql"])
    assert (ok.exit_code, ok.output) == (0, "The schema matches schema.graphql.\n")
    (project / "old.graphql").write_text(SDL.replace("hello", "goodbye"), encoding="utf-8")
    differs = CliRunner().invoke(main, ["graphql", "check", "--file", "old.graphql"])
    assert differs.exit_code == 1
    assert "-  goodbye: String!" in differs.output
    assert "+  hello: String!" in differs.output


def test_an_app_without_graphql_is_told_so(project: Path) -> None:
    (project / "plainapp.py").write_text("from plait import Plait\napp = Plait()\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["graphql", "schema", "plainapp:app"])
    assert result.exit_code == 1
    assert "app.install(GraphQL(schema))" in result.output


def test_the_example_matches_its_committed_schema() -> None:
    env = {**os.environ, "PLAIT_APP": "app.py", "PLAIT_SECRET_KEY": "graphql-cli-test"}
    env.pop("PLAIT_DATABASE_URL", None)
    plait = Path(sys.executable).with_name("plait")
    done = subprocess.run(
        [str(plait), "graphql", "check", "--file", "schema.graphql"],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

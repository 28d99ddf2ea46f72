"""``plait openapi``: the document of an app, as JSON or YAML, to standard output or a file."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from plait.cli import main

APP = """
from plait.app import Plait

app = Plait(title="Shop", version="9.9")


@app.get("/items/{id:int}")
def item(id: int) -> dict[str, int]:
    '''Fetch an item: « un article ».'''
    return {"id": id}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as the working directory, holding app.py; sys.path and sys.modules restored after."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["openapi", *args])


def test_json_to_standard_output(project: Path) -> None:
    result = invoke()
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["info"] == {"title": "Shop", "version": "9.9"}
    assert document["paths"]["/items/{id}"]["get"]["summary"] == "Fetch an item: « un article »."
    assert "« un article »" in result.output  # written as text, not \\u escapes
    assert result.output.startswith('{\n  "openapi": "3.1.0"')


def test_yaml(project: Path) -> None:
    result = invoke("app.py", "--format", "yaml")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("openapi: 3.1.0\ninfo:\n")
    assert "&id" not in result.output  # no anchors, even where parts of the document repeat
    assert yaml.safe_load(result.output) == json.loads(invoke("app.py").output)


def test_output_file(project: Path) -> None:
    result = invoke("app.py:app", "--output", "out/openapi.yaml", "--format", "yaml")
    assert result.exit_code == 1
    assert "Cannot write out/openapi.yaml" in result.output
    (project / "out").mkdir()
    result = invoke("app.py:app", "-o", "out/openapi.yaml", "--format", "yaml")
    assert result.exit_code == 0, result.output
    written = (project / "out" / "openapi.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(written)["info"]["title"] == "Shop"
    assert written.endswith("\n")


def test_yaml_without_pyyaml_names_the_fix(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    result = invoke("--format", "yaml")
    assert result.exit_code == 1
    assert "pip install pyyaml" in result.output


def test_not_a_plait_app(project: Path) -> None:
    (project / "other.py").write_text("async def app(scope, receive, send):\n    pass\n")
    result = invoke("other.py")
    assert result.exit_code == 1
    assert "is a function, not a Plait app" in result.output


def test_a_misconfigured_app_shows_no_traceback(project: Path) -> None:
    source = APP + "\n\n@app.get('/a', operation_id='x')\ndef a() -> None: ...\n\n\n@app.get('/b', operation_id='x')\n"
    (project / "bad.py").write_text(textwrap.dedent(source) + "def b() -> None: ...\n")
    result = invoke("bad.py")
    assert result.exit_code == 1
    assert "bad:app is misconfigured: Two routes have operation_id='x'" in result.output
    assert "Traceback" not in result.output


def test_help_lists_the_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "openapi" in result.output


def test_a_customised_document_is_printed(project: Path) -> None:
    source = APP + textwrap.dedent(
        """

        original = app.openapi


        def custom_openapi():
            document = original()
            document["info"]["x-logo"] = {"url": "/logo.png"}
            return document


        app.openapi = custom_openapi
        """
    )
    (project / "custom.py").write_text(source)
    result = invoke("custom.py")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["info"]["x-logo"] == {"url": "/logo.png"}

"""Fixtures for the CLI tests: a scratch project directory, undone after each test."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WriteFile = Callable[[str, str], Path]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as the working directory; sys.path, sys.modules and the environment restored after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLAIT_SECRET_KEY", raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


@pytest.fixture
def write(project: Path) -> WriteFile:
    """Write a file (dedented) under the project directory, creating its parent directories."""

    def write_file(relative: str, source: str) -> Path:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    return write_file


PLAIT_APP = """
from plait.app import Plait

app = Plait()


@app.get("/")
def index() -> dict[str, str]:
    return {"hello": "world"}
"""

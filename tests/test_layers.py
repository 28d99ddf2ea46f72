"""The layers of DESIGN.md, checked on the source: the core never imports a battery.

A battery (``plait.db``, ``plait.auth``, ...) plugs in through :mod:`plait.extensions`; if the core
imported one, even lazily inside a function, an app that never installs it would still depend on it.
The OpenAPI layer sits above the app too: only its extension is named, by path, as a default.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "plait"
BATTERIES = (
    "db",
    "auth",
    "sessions",
    "csrf",
    "templates",
    "forms",
    "admin",
    "cache",
    "ratelimit",
    "channels",
    "jobs",
    "graphql",
    "openapi",
)


def _battery(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "plait" and parts[1] in BATTERIES:
        return parts[1]
    return None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _owner(path: Path) -> str | None:
    first = path.relative_to(SRC).parts[0]
    name = first.removesuffix(".py")
    return name if name in BATTERIES else None


CORE = sorted(path for path in SRC.rglob("*.py") if _owner(path) is None)


def test_there_is_a_core_to_check() -> None:
    assert any(path.name == "app.py" for path in CORE)
    assert len(CORE) > 30


@pytest.mark.parametrize("path", CORE, ids=lambda path: str(path.relative_to(SRC)))
def test_the_core_never_imports_a_battery(path: Path) -> None:
    reached = {module: battery for module in _imports(path) if (battery := _battery(module))}
    assert not reached, f"{path.relative_to(SRC)} imports {sorted(reached)}: go through plait.extensions instead"


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from plait.db import Database\n    import plait.auth.models\n")
    assert {_battery(name) for name in _imports(module)} >= {"db", "auth"}

"""The battery stays out of the core, and says what to install when its dependencies are missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)


def test_the_core_never_imports_the_battery() -> None:
    result = run(
        """
        import sys
        import plait, plait.app, plait.extensions, plait.testing, plait.cli
        app = plait.Plait()
        app.build()
        print(sorted(m for m in sys.modules if m.startswith(("plait.db", "sqlalchemy"))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_sqlalchemy_the_import_error_says_what_to_install() -> None:
    result = run(
        """
        import sys
        sys.modules["sqlalchemy"] = None
        import plait.db
        """
    )
    assert result.returncode == 1
    assert "plait.db needs SQLAlchemy 2 with its asyncio extra" in result.stderr
    assert "pip install 'plait[db]'" in result.stderr

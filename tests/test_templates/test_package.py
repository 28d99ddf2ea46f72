"""The battery's public surface, its distance from the core, and what it says when Jinja2 is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import plait.templates


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)


def test_public_names() -> None:
    assert plait.templates.__all__ == [
        "TemplateError",
        "TemplateNotFound",
        "TemplateResponse",
        "Templates",
        "TemplatesSettings",
        "add_router_folders",
        "negotiate",
        "preferred_type",
        "render",
        "wants_html",
    ]


def test_the_core_never_imports_the_battery_or_jinja() -> None:
    result = run(
        """
        import sys
        import plait, plait.app, plait.extensions, plait.redirects, plait.testing
        app = plait.Plait()
        app.build()
        print(sorted(m for m in sys.modules if m.startswith(("plait.templates", "jinja2"))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_jinja2_the_import_error_says_what_to_install() -> None:
    result = run(
        """
        import sys
        sys.modules["jinja2"] = None
        import plait.templates
        """
    )
    assert result.returncode == 1
    assert "pip install 'plait[templates]'" in result.stderr

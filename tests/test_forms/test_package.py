"""The package's public surface, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import plait.forms


def test_public_surface_is_pinned() -> None:
    assert sorted(plait.forms.__all__) == sorted(
        [
            "TEMPLATES",
            "URL",
            "WIDGETS",
            "BoundField",
            "BoundForm",
            "Email",
            "Field",
            "Form",
            "Hidden",
            "InvalidFormError",
            "Password",
            "Relation",
            "Submitted",
            "Textarea",
            "bind",
            "form_for",
            "form_spec",
        ]
    )
    assert all(hasattr(plait.forms, name) for name in plait.forms.__all__)


def test_the_macros_ship_with_the_package() -> None:
    assert (Path(plait.forms.TEMPLATES) / "forms" / "macros.html").is_file()


def test_forms_without_a_database_do_not_import_sqlalchemy() -> None:
    # Forms that list no database rows must work in an app installed without plait[db].
    code = "import sys, plait.forms; print('sqlalchemy' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"

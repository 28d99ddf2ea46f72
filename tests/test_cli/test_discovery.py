"""Finding the app: every form of APP, and a useful message for each way it can go wrong."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from plait.app import Plait
from plait.cli.discovery import AppRef, DiscoveryError, discover, export_pythonpath, resolve
from tests.test_cli.conftest import PLAIT_APP, WriteFile

# -- resolve: APP to module, attribute and directory, without importing ------------------------------


def test_module_and_attribute(project: Path) -> None:
    ref = resolve("myproject.web:application")
    assert ref == AppRef("myproject.web", "application", project, None, False)
    assert ref.import_string == "myproject.web:application"


def test_module_alone_means_attribute_app(project: Path) -> None:
    assert resolve("service").import_string == "service:app"


def test_file_path(project: Path, write: WriteFile) -> None:
    path = write("src/site.py", PLAIT_APP)
    ref = resolve("src/site.py")
    assert (ref.module, ref.attr, ref.directory, ref.file) == ("site", "app", project / "src", path)
    assert resolve("src/site.py:api").import_string == "site:api"


def test_file_inside_packages_keeps_the_package_name(project: Path, write: WriteFile) -> None:
    write("pkg/__init__.py", "")
    write("pkg/sub/__init__.py", "")
    write("pkg/sub/web.py", PLAIT_APP)
    ref = resolve("pkg/sub/web.py:app")
    assert (ref.module, ref.directory) == ("pkg.sub.web", project)
    assert resolve("pkg").module == "pkg"  # a package directory means its __init__.py


def test_no_app_tries_app_py_then_main_py(project: Path, write: WriteFile) -> None:
    write("main.py", PLAIT_APP)
    assert resolve(None).import_string == "main:app"
    write("app.py", PLAIT_APP)
    assert resolve(None).import_string == "app:app"
    assert resolve(None, factory=True).factory is True


def test_no_app_and_no_default_file(project: Path) -> None:
    with pytest.raises(DiscoveryError) as caught:
        resolve(None)
    message = caught.value.message
    assert "neither app.py nor main.py exists in" in message
    assert str(project) in message
    assert "myproject.app:app" in message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("web.py:", "ends with ':'; write the attribute after it, as in web.py:app"),
        ("not a name", "neither a Python file nor a module name"),
        ("missing.py", "No such file: "),
        ("notes.txt", "is not a Python file"),
        ("assets", "is a directory, not a Python file or package"),
    ],
)
def test_bad_app_arguments(project: Path, write: WriteFile, spec: str, expected: str) -> None:
    write("notes.txt", "hi")
    (project / "assets").mkdir()
    with pytest.raises(DiscoveryError, match=expected.replace("(", r"\(")):
        resolve(spec)


# -- discover: importing -----------------------------------------------------------------------------


def test_discover_a_file_puts_its_directory_on_sys_path(project: Path, write: WriteFile) -> None:
    write("apps/first_app.py", PLAIT_APP)
    ref, app = discover("apps/first_app.py")
    assert isinstance(app, Plait)
    assert sys.path[0] == str(project / "apps")
    assert ref.import_string == "first_app:app"


def test_discover_a_module_from_the_working_directory(project: Path, write: WriteFile) -> None:
    write("second_app.py", PLAIT_APP + "\nother = Plait()\n")
    _, app = discover("second_app:other")
    assert isinstance(app, Plait)
    assert app is sys.modules["second_app"].other


def test_discover_the_default_file(project: Path, write: WriteFile) -> None:
    write("main.py", PLAIT_APP)
    ref, app = discover(None)
    assert isinstance(app, Plait)
    assert ref.file == project / "main.py"


def test_discover_a_dotted_attribute(project: Path, write: WriteFile) -> None:
    write("holder_app.py", PLAIT_APP + "\nclass Holder:\n    app = app\n")
    _, app = discover("holder_app:Holder.app")
    assert isinstance(app, Plait)


def test_missing_attribute_lists_what_looks_like_an_app(project: Path, write: WriteFile) -> None:
    write(
        "listing_app.py",
        """
        from plait.app import Plait

        application = Plait()


        def create_app() -> Plait:
            return Plait()


        def helper(x: int) -> int:
            return x
        """,
    )
    with pytest.raises(DiscoveryError) as caught:
        discover("listing_app.py")
    message = caught.value.message
    assert "'listing_app'" in message
    assert "has no attribute 'app'" in message
    assert "listing_app:application" in message
    assert "listing_app:create_app --factory" in message
    assert "helper" not in message


def test_missing_attribute_with_nothing_to_suggest(project: Path, write: WriteFile) -> None:
    write("empty_app.py", "x = 1\n")
    with pytest.raises(DiscoveryError, match=r"has no attribute 'app'\. Create the app there \(app = Plait\(\)\)"):
        discover("empty_app.py")


def test_a_factory_needs_the_factory_flag(project: Path, write: WriteFile) -> None:
    write("factory_app.py", "from plait.app import Plait\n\ndef create_app() -> Plait:\n    return Plait()\n")
    with pytest.raises(DiscoveryError, match=r"looks like an app factory\. Add --factory to call it"):
        discover("factory_app:create_app")
    ref, app = discover("factory_app:create_app", factory=True)
    assert isinstance(app, Plait)
    assert ref.factory is True


def test_a_factory_that_needs_arguments(project: Path, write: WriteFile) -> None:
    write("needy_app.py", "def create_app(config):\n    return config\n")
    with pytest.raises(DiscoveryError, match=r"needs config\. Give those parameters defaults"):
        discover("needy_app:create_app", factory=True)


def test_a_factory_that_fails(project: Path, write: WriteFile) -> None:
    write("broken_factory.py", "def create_app():\n    raise RuntimeError('no database')\n")
    with pytest.raises(DiscoveryError) as caught:
        discover("broken_factory:create_app", factory=True)
    assert "Calling the factory broken_factory:create_app" in caught.value.message
    assert "RuntimeError: no database" in caught.value.message
    assert f"{project / 'broken_factory.py'}, line 2" in caught.value.message


def test_an_attribute_that_is_not_an_app(project: Path, write: WriteFile) -> None:
    write("number_app.py", "from plait.app import Plait\napp = 42\nreal = Plait()\n")
    with pytest.raises(DiscoveryError) as caught:
        discover("number_app.py")
    assert "is a int, not an ASGI application" in caught.value.message
    assert "number_app:real" in caught.value.message


def test_a_module_that_does_not_exist(project: Path) -> None:
    with pytest.raises(DiscoveryError, match="Cannot import 'nowhere_to_be_found': no such module in"):
        discover("nowhere_to_be_found:app")


def test_an_error_while_importing_points_at_the_line(project: Path, write: WriteFile) -> None:
    write("crashing_app.py", "from plait.app import Plait\n\napp = Plait()\nundefined_name\n")
    with pytest.raises(DiscoveryError) as caught:
        discover("crashing_app.py")
    message = caught.value.message
    assert "failed with NameError: name 'undefined_name' is not defined" in message
    assert f"at {project / 'crashing_app.py'}, line 4" in message
    assert "Traceback" not in message


def test_a_missing_dependency_of_the_app_is_an_import_error_not_a_missing_app(project: Path, write: WriteFile) -> None:
    write("needs_lib.py", "import some_library_that_is_absent\n")
    with pytest.raises(DiscoveryError, match="failed with ModuleNotFoundError: No module named 'some_library"):
        discover("needs_lib.py")


def test_a_syntax_error(project: Path, write: WriteFile) -> None:
    write("typo_app.py", "app = (\n")
    with pytest.raises(DiscoveryError, match=r"failed with SyntaxError: .*\n  at .*typo_app\.py, line 1"):
        discover("typo_app.py")


def test_a_file_shadowed_by_another_module(project: Path, write: WriteFile) -> None:
    write("json.py", PLAIT_APP)  # the standard library's json is already imported
    with pytest.raises(DiscoveryError, match=r"another module of that name comes first.*Rename json\.py"):
        discover("json.py")


def test_export_pythonpath(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export_pythonpath(project / "a")
    assert os.environ["PYTHONPATH"] == str(project / "a")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/x", str(project / "a")]))
    export_pythonpath(project / "a")
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/x", str(project / "a")])
    export_pythonpath(project / "b")
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(project / "b"), "/x", str(project / "a")]

"""Finding the application a ``plait`` command is pointed at.

``APP`` may be ``module:attr``, ``module`` (attribute ``app``), ``path/to/file.py`` or
``path/to/file.py:attr``. With no ``APP``, ``app.py`` and then ``main.py`` in the current
directory are tried, attribute ``app``. With ``--factory``, the attribute is a function that
builds the app, called with no arguments.

>>> ref = resolve("myproject.web:application")  # nothing is imported yet
>>> ref.import_string  # what the server imports, with ref.directory on sys.path
'myproject.web:application'
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["DEFAULT_ATTR", "DEFAULT_FILES", "AppRef", "DiscoveryError", "discover", "export_pythonpath", "resolve"]

DEFAULT_FILES = ("app.py", "main.py")
DEFAULT_ATTR = "app"


class DiscoveryError(click.ClickException):
    """The app could not be found or imported; the message says what was tried and how to fix it."""


@dataclass(frozen=True)
class AppRef:
    """Where an app lives: an importable ``module``, an ``attr`` in it, the ``directory`` to import from."""

    module: str
    attr: str
    directory: Path
    file: Path | None = None
    factory: bool = False

    @property
    def import_string(self) -> str:
        """``"module:attr"``, the form granian and uvicorn import."""
        return f"{self.module}:{self.attr}"

    def describe(self) -> str:
        where = self.file if self.file is not None else self.directory
        return f"{self.import_string} (from {where})"


def _command() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.command_path if ctx is not None else "plait run"


def _is_dotted_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def resolve(spec: str | None, *, factory: bool = False, cwd: Path | None = None) -> AppRef:
    """Turn ``APP`` into an :class:`AppRef` without importing anything."""
    base = (cwd or Path.cwd()).resolve()
    if spec is None or not spec.strip():
        for name in DEFAULT_FILES:
            if (base / name).is_file():
                return _from_file(base / name, DEFAULT_ATTR, factory)
        raise DiscoveryError(
            f"No APP was given, and neither {' nor '.join(DEFAULT_FILES)} exists in {base}.\n"
            f"Name the app: {_command()} myproject.app:app, or {_command()} path/to/app.py"
        )
    target, attr = spec.strip(), DEFAULT_ATTR
    head, colon, tail = target.rpartition(":")
    if colon and head and (_is_dotted_name(tail) or not tail):
        if not tail:
            raise DiscoveryError(f"{spec!r} ends with ':'; write the attribute after it, as in {head}:app")
        target, attr = head, tail
    path = base / target
    if target.endswith(".py") or "/" in target or os.sep in target or path.is_file() or path.is_dir():
        return _from_path(path, target, attr, factory)
    if not _is_dotted_name(target):
        raise DiscoveryError(
            f"{spec!r} is neither a Python file nor a module name. Give a path such as app.py or "
            "src/myproject/app.py:app, or a module such as myproject.app:app."
        )
    return AppRef(target, attr, base, None, factory)


def _from_path(path: Path, given: str, attr: str, factory: bool) -> AppRef:
    if path.is_dir():
        init = path / "__init__.py"
        if init.is_file():
            return _from_file(init, attr, factory)
        raise DiscoveryError(
            f"{given} is a directory, not a Python file or package; point at the file, as in {given}/app.py"
        )
    if not path.is_file():
        raise DiscoveryError(
            f"No such file: {path}. Check the path (it is relative to {Path.cwd()}), or give a module name "
            "such as myproject.app:app."
        )
    if path.suffix != ".py":
        raise DiscoveryError(f"{given} is not a Python file; point at the .py file that creates the app.")
    return _from_file(path, attr, factory)


def _from_file(path: Path, attr: str, factory: bool) -> AppRef:
    """The module name of ``path``: its packages (directories with ``__init__.py``) included."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return AppRef(".".join(parts), attr, directory, path, factory)


def discover(spec: str | None, *, factory: bool = False, cwd: Path | None = None) -> tuple[AppRef, Any]:
    """Resolve ``APP``, put its directory on ``sys.path``, import it; the reference and the app."""
    ref = resolve(spec, factory=factory, cwd=cwd)
    return ref, load(ref)


def load(ref: AppRef) -> Any:
    """Import ``ref`` (its directory first on ``sys.path``) and return the app, built if a factory."""
    directory = str(ref.directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module = _import(ref)
    obj: Any = module
    for part in ref.attr.split("."):
        if not hasattr(obj, part):
            raise DiscoveryError(_missing_attr(ref, module))
        obj = getattr(obj, part)
    if ref.factory:
        return _call_factory(ref, obj)
    if inspect.isfunction(obj) and not _required_params(obj):
        raise DiscoveryError(
            f"{ref.describe()} is a function that takes no arguments, so it looks like an app factory. "
            f"Add --factory to call it: {_command()} {ref.import_string} --factory"
        )
    if not callable(obj):
        raise DiscoveryError(
            f"{ref.describe()} is a {type(obj).__name__}, not an ASGI application. Point at the Plait app "
            f"(for example app = Plait()) instead.{_suggestions(ref, module)}"
        )
    return obj


def _import(ref: AppRef) -> Any:
    importlib.invalidate_caches()  # files written moments ago must be seen
    try:
        module = importlib.import_module(ref.module)
    except ModuleNotFoundError as exc:
        if exc.name and (ref.module == exc.name or ref.module.startswith(exc.name + ".")):
            raise DiscoveryError(
                f"Cannot import {ref.module!r}: no such module in {ref.directory} or on the Python path. "
                "Check the spelling, run the command from your project's directory, or give the file "
                "path instead (path/to/app.py)."
            ) from None
        raise DiscoveryError(_import_failed(ref, exc)) from None
    except Exception as exc:
        raise DiscoveryError(_import_failed(ref, exc)) from None
    found = getattr(module, "__file__", None)
    if ref.file is not None and found is not None and Path(found).resolve() != ref.file:
        raise DiscoveryError(
            f"Importing {ref.module!r} found {found}, not {ref.file}: another module of that name comes first "
            f"on the Python path. Rename {ref.file.name} to something unique."
        )
    return module


def _import_failed(ref: AppRef, exc: BaseException) -> str:
    """What went wrong while the app's module ran, pointing at the user's line rather than a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if Path(f.filename).resolve().is_relative_to(ref.directory)]
    chosen = own or frames
    where = f"\n  at {chosen[-1].filename}, line {chosen[-1].lineno}" if chosen else ""
    if isinstance(exc, SyntaxError):
        where = f"\n  at {exc.filename}, line {exc.lineno}"
    return (
        f"Importing {ref.describe()} failed with {type(exc).__name__}: {exc}{where}\n"
        "Fix the error above, then run the command again."
    )


def _required_params(fn: Any) -> list[str]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    empty = inspect.Parameter.empty
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.default is empty and p.kind in kinds]


def _call_factory(ref: AppRef, factory: Any) -> Any:
    if not callable(factory):
        raise DiscoveryError(f"--factory: {ref.describe()} is a {type(factory).__name__}, not a function to call.")
    needed = _required_params(factory)
    if needed:
        raise DiscoveryError(
            f"--factory calls {ref.attr}() with no arguments, but it needs {', '.join(needed)}. Give those "
            "parameters defaults, or add a function that takes none and returns the app."
        )
    try:
        return factory()
    except Exception as exc:
        raise DiscoveryError(_import_failed(ref, exc).replace("Importing", "Calling the factory", 1)) from None


def _missing_attr(ref: AppRef, module: Any) -> str:
    return (
        f"{ref.module!r} ({getattr(module, '__file__', ref.directory)}) has no attribute {ref.attr!r}."
        f"{_suggestions(ref, module) or ' Create the app there (app = Plait()) or name the right attribute.'}"
    )


def _suggestions(ref: AppRef, module: Any) -> str:
    """Attributes of ``module`` that look like apps or app factories, as commands to try."""
    from plait.app import Plait

    apps, factories = [], []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, Plait):
            apps.append(name)
        elif (
            inspect.isfunction(value)
            and value.__module__ == module.__name__
            and not _required_params(value)
            and any(word in name.lower() for word in ("app", "create", "make", "build"))
        ):
            factories.append(name)
    lines = [f"\n  {_command()} {ref.module}:{name}" for name in apps]
    lines += [f"\n  {_command()} {ref.module}:{name} --factory" for name in factories]
    return f" These look like apps; try:{''.join(lines)}" if lines else ""


def export_pythonpath(directory: Path) -> None:
    """Put ``directory`` first on ``PYTHONPATH`` so server worker processes can import the app too."""
    current = [part for part in os.environ.get("PYTHONPATH", "").split(os.pathsep) if part]
    if str(directory) not in current:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(directory), *current])

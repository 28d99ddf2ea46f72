"""Where templates come from: the app's folders, then each router's, and what a failure says."""

from __future__ import annotations

import inspect
import os
import re
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import jinja2

from plait.exceptions import ConfigurationError
from plait.routing.router import Router

__all__ = ["TemplateError", "TemplateNotFound", "add_router_folders"]

_MISSING = re.compile(r"'(\w+)' is undefined")


class TemplateNotFound(jinja2.TemplateNotFound):
    """No folder holds the template; the message lists every folder searched (still a ``jinja2.TemplateNotFound``)."""

    def __init__(self, name: str, folders: Sequence[str]) -> None:
        searched = ", ".join(folders) or "no folder (none was configured)"
        super().__init__(
            name,
            f"Template {name!r} not found; searched {searched}. Create the file in one of these folders or fix "
            "the name (it is relative to a templates folder, with forward slashes).",
        )
        self.folders = list(folders)


class TemplateError(Exception):
    """A template failed to compile or render; says which template, which line and what went wrong."""

    def __init__(self, message: str, *, template: str | None, line: int | None) -> None:
        super().__init__(message)
        self.template = template
        self.line = line


class FolderLoader(jinja2.FileSystemLoader):
    """A ``FileSystemLoader`` over several folders, first match wins, with a missing template named in full."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            return super().get_source(environment, template)
        except jinja2.TemplateNotFound:
            raise TemplateNotFound(template, list(self.searchpath)) from None


class StrictOnOutput(jinja2.Undefined):
    """A missing variable is falsy and may be tested, but printing or looping over it is an error.

    ``{% if flash %}``, ``{{ title | default("Home") }}`` and ``{% if user is defined %}`` work as in
    every Jinja template; ``{{ titel }}`` (a typo) or ``{% for a in artcles %}`` raise, in debug and in
    production alike. A page that silently renders a blank link or an empty list ships unnoticed; an
    error names the template, the line and the variable the first time a test or a developer opens it,
    and production behaves exactly as the tests did.
    """

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()

    def __iter__(self) -> Iterator[Any]:
        self._fail_with_undefined_error()

    def __aiter__(self) -> NoReturn:
        self._fail_with_undefined_error()

    def __len__(self) -> int:
        self._fail_with_undefined_error()


def describe(exc: Exception, name: str, folders: Sequence[str]) -> TemplateError:
    """A :class:`TemplateError` naming the template and line where ``exc`` happened while rendering ``name``."""
    line: int | None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where, line = exc.name or name, exc.lineno
        message = exc.message or str(exc)
    else:
        where, line = _template_frame(exc.__traceback__, folders) or (name, None)
        message = str(exc)
    hint = ""
    if isinstance(exc, jinja2.UndefinedError):
        missing = _MISSING.fullmatch(message)
        var = missing.group(1) if missing else "name"
        hint = (
            f" Pass it in the context given to render(), or guard it with {{% if {var} is defined %}} or "
            f'{{{{ {var} | default("...") }}}}.'
        )
    at = f", line {line}" if line is not None else ""
    return TemplateError(f"Template {where!r}{at}: {message}.{hint}", template=where, line=line)


def _template_frame(tb: TracebackType | None, folders: Sequence[str]) -> tuple[str, int | None] | None:
    """The innermost frame of a template file in the traceback (Jinja rewrites frames to template lines)."""
    found = None
    for frame in traceback.extract_tb(tb):
        for folder in folders:
            if frame.filename.startswith(folder + os.sep):
                found = (Path(frame.filename).relative_to(folder).as_posix(), frame.lineno)
    return found


# -- router folders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouterFolders:
    """The templates folder (and static files) a router ships, like a Flask blueprint's."""

    templates: str | None
    static: str | None
    static_name: str | None


_ROUTER_FOLDERS: weakref.WeakKeyDictionary[Router, RouterFolders] = weakref.WeakKeyDictionary()


def add_router_folders(
    router: Router,
    *,
    templates: str | os.PathLike[str] | None = "templates",
    static: str | os.PathLike[str] | None = None,
    static_url: str = "/static",
) -> None:
    """Give ``router`` its own templates folder and, optionally, static files; call it where the router is made.

    Relative folders start at the directory of the module that calls this (the router's package, as
    with a Flask blueprint). The app's own folders are searched first, so an app overrides a router's
    template by putting a file of the same name in its folder: keep a router's templates in a
    subfolder named after it (``admin/list.html``). ``static`` is served at the router's prefix +
    ``static_url`` and named ``"<router name>.static"``: ``{{ static("admin.css", router="admin") }}``.

    >>> import tempfile
    >>> admin = Router(prefix="/admin", name="admin")
    >>> add_router_folders(admin, templates=tempfile.mkdtemp())  # read by Templates when the app starts
    """
    caller = inspect.currentframe()
    module_file = caller.f_back.f_globals.get("__file__") if caller and caller.f_back else None
    home = Path(module_file).resolve().parent if module_file else Path.cwd()
    template_dir = str(home / templates) if templates is not None else None
    static_dir = str(home / static) if static is not None else None
    if template_dir is not None and not os.path.isdir(template_dir):
        raise ConfigurationError(
            f"The templates folder {template_dir!r} of router {router.name or router.prefix!r} does not exist; "
            "create it, or pass templates=None for a router without templates."
        )
    static_name = None
    if static_dir is not None:
        if not router.name:
            raise ConfigurationError(
                "add_router_folders(static=...) names the static files after the router; give it a name: "
                'Router(prefix="/admin", name="admin").'
            )
        if not os.path.isdir(static_dir):
            raise ConfigurationError(f"The static folder {static_dir!r} of router {router.name!r} does not exist.")
        static_name = f"{router.name}.static"
        router.mount_static(static_url, static_dir, name=static_name)
    _ROUTER_FOLDERS[router] = RouterFolders(template_dir, static_dir, static_name)


def router_folders(root: Router) -> list[RouterFolders]:
    """The folders of every router included below ``root`` (depth first, in inclusion order)."""
    found: list[RouterFolders] = []
    seen: set[int] = set()

    def visit(router: Router) -> None:
        if id(router) in seen:
            return
        seen.add(id(router))
        folders = _ROUTER_FOLDERS.get(router)
        if folders is not None:
            found.append(folders)
        for child in router.children:
            visit(child.router)

    visit(root)
    return found

"""The ``Templates`` extension: one Jinja2 environment per app, built at startup."""

from __future__ import annotations

import inspect
import logging
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from plait.errors import HandlerTable, ProblemResponse, call_handler, debug_response, handle
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.requests import Request
from plait.routing.router import Router
from plait.templates.loader import FolderLoader, StrictOnOutput, describe, router_folders
from plait.templates.settings import TemplatesSettings
from plait.templates.static import StaticVersions

if TYPE_CHECKING:
    from plait.app import Plait
    from plait.responses import Response
    from plait.templates.responses import TemplateResponse

__all__ = ["Templates", "error_response", "templates_of"]

logger = logging.getLogger("plait.error")

AUTOESCAPED = ("html", "htm", "xml", "jinja")
"""Extensions always autoescaped. Every other template is too (``select_autoescape(default=True)``):
a plain-text mail opts out with ``{% autoescape false %}`` where it needs to."""


class _Default(str):
    """A default folder name: a missing default folder is fine, a missing folder you named is an error."""

    __slots__ = ()


_APPS: weakref.WeakKeyDictionary[Any, Templates] = weakref.WeakKeyDictionary()


def templates_of(app: Any) -> Templates:
    """The ``Templates`` installed in ``app`` (what :func:`plait.templates.render` uses)."""
    templates = _APPS.get(app)
    if templates is None:
        raise ConfigurationError(
            "render() needs the templates extension: install it with app.install(Templates()) "
            "(from plait.templates import Templates), before the app starts."
        )
    return templates


class Templates(Extension):
    """Jinja2 templates for server-rendered pages, with autoescaping always on.

    ``directory`` (one folder or several, searched in order) and ``static`` are relative to the
    module that creates the ``Templates``, or absolute; the ``static`` folder is served at
    ``static_url`` (named ``"static"``) when it exists. Routers add their own folders with
    :func:`~plait.templates.add_router_folders`; the app's are searched first. ``auto_reload``
    (default: ``PLAIT_TEMPLATES_AUTO_RELOAD``, else the app's debug setting) re-reads a template
    when its file changes; otherwise each template is compiled once and cached. ``globals``,
    ``filters`` and ``tests`` are added to the environment: expose the settings your pages need
    with ``globals={"site": public_settings}``.

    Every render gets ``request``, ``url_for`` (a path, with the ``root_path`` of a mount),
    ``static(path)`` (with a content hash for cache-busting), every extension's template globals and
    the names each extension's ``template_context`` gives for the request (CSRF field, user, flashes).

    >>> from plait import Plait
    >>> from plait.templates import render
    >>> app = Plait()
    >>> templates = app.install(Templates("templates", static=None))
    >>> @app.get("/")
    ... def home() -> object:
    ...     return render("home.html", {"title": "Hello"})
    """

    name = "templates"
    settings_type = TemplatesSettings
    settings: TemplatesSettings

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = _Default("templates"),
        *,
        static: str | os.PathLike[str] | None = _Default("static"),
        static_url: str = "/static",
        auto_reload: bool | None = None,
        globals: Mapping[str, Any] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        tests: Mapping[str, Callable[..., Any]] | None = None,
        jinja_extensions: Sequence[str | type[jinja2.ext.Extension]] = (),
        cache_size: int = 400,
    ) -> None:
        caller = inspect.currentframe()
        module_file = caller.f_back.f_globals.get("__file__") if caller and caller.f_back else None
        self._home = Path(module_file).resolve().parent if module_file else Path.cwd()
        given = [directory] if isinstance(directory, str | os.PathLike) else list(directory)
        self._directories = given
        self._static = static
        self.static_url = static_url
        self._auto_reload = auto_reload
        self._globals = dict(globals or {})
        self._filters = dict(filters or {})
        self._tests = dict(tests or {})
        self._jinja_extensions = list(jinja_extensions)
        self._cache_size = cache_size
        self._environment: jinja2.Environment | None = None
        self._static_router: Router | None = None
        self._static_dirs: dict[str, str] = {}
        self.versions = StaticVersions()
        """The content hashes ``static()`` appends, per file."""
        self._app: Plait[Any] | None = None
        self._ready = False
        self.folders: list[str] = []
        """Every folder searched for a template, in order (the app's, then each router's)."""

    # -- startup ------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        self._app = app
        self.folders = [folder for d in self._directories if (folder := self._folder(d, "templates")) is not None]
        static = self._folder(self._static, "static") if self._static is not None else None
        if static is not None:
            self._static_router = Router()
            self._static_router.mount_static(self.static_url, static, name="static")
            self._static_dirs["static"] = static
        for extra in router_folders(app):
            if extra.templates is not None:
                self.folders.append(extra.templates)
            if extra.static is not None and extra.static_name is not None:
                self._static_dirs[extra.static_name] = extra.static
        if not self.folders:
            wanted = [str(self._home / d) for d in self._directories]
            raise ConfigurationError(
                f"Templates found no templates folder (looked for {', '.join(wanted) or 'none'}); create one, "
                "or pass Templates(directory=...) an existing folder (relative to the app's module, or absolute)."
            )
        reload = self._auto_reload
        if reload is None:
            configured = self.settings.templates_auto_reload
            reload = app.debug if configured is None else configured
        self.versions = StaticVersions(check=reload)
        self._environment = self._build_environment(reload)
        _APPS[app] = self

    def _folder(self, directory: str | os.PathLike[str], what: str) -> str | None:
        path = (self._home / directory).resolve()
        if path.is_dir():
            return str(path)
        if isinstance(directory, _Default):
            return None
        raise ConfigurationError(
            f"The {what} folder {str(path)!r} does not exist; create it, or fix the path given to Templates "
            f"(relative to {str(self._home)!r}, the module that created it, or absolute)."
        )

    def _build_environment(self, reload: bool) -> jinja2.Environment:
        environment = jinja2.Environment(
            loader=FolderLoader(self.folders),
            autoescape=jinja2.select_autoescape(AUTOESCAPED, default_for_string=True, default=True),
            enable_async=True,
            undefined=StrictOnOutput,
            auto_reload=reload,
            cache_size=self._cache_size,
            extensions=self._jinja_extensions,
        )
        environment.globals["url_for"] = self._url_for
        environment.globals["static"] = self._static_url
        environment.filters.update(self._filters)
        environment.tests.update(self._tests)
        return environment

    def routers(self) -> Sequence[Router]:
        return [self._static_router] if self._static_router is not None else []

    @property
    def environment(self) -> jinja2.Environment:
        """The Jinja2 environment, once the app has started (``app.build()``, the lifespan or a first request)."""
        if self._environment is None:
            raise ConfigurationError(
                "The templates environment is built when the app starts; install Templates in the app and call "
                "app.build() (or use it inside the lifespan, a request or a TestClient block)."
            )
        if not self._ready:
            # Extensions set up after this one add their globals too, so they are merged on first use.
            assert self._app is not None  # set with the environment
            self._environment.globals.update(self._app.extensions.template_globals)
            self._environment.globals.update(self._globals)
            self._ready = True
        return self._environment

    # -- names every template sees -----------------------------------------------------------------

    @jinja2.pass_context
    def _url_for(self, context: jinja2.runtime.Context, name: str, /, **params: Any) -> str:
        """``url_for("article", id=7)``: the path, with the ``root_path`` of the mount serving the page."""
        assert self._app is not None
        external = params.pop("_external", False)
        request = context.get("request")
        if isinstance(request, Request):
            if external:
                return request.url_for(name, **params)
            return str(request.scope.get("root_path", "")) + self._app.url_for(name, **params)
        return self._app.url_for(name, _external=external, **params)

    @jinja2.pass_context
    def _static_url(self, context: jinja2.runtime.Context, path: str, /, *, router: str | None = None) -> str:
        """``static("css/site.css")``: the file's URL with ``?v=<content hash>``, so a changed file is fetched anew."""
        name = "static" if router is None else f"{router}.static"
        url = self._url_for(context, name, path=path)
        folder = self._static_dirs.get(name)
        version = self.versions.version(folder, path) if folder is not None else None
        return f"{url}?v={version}" if version is not None else url

    # -- rendering ----------------------------------------------------------------------------------

    def get_template(self, name: str) -> jinja2.Template:
        """The compiled template (cached); :class:`~plait.templates.TemplateNotFound` names the folders searched."""
        try:
            return self.environment.get_template(name)
        except jinja2.TemplateNotFound:
            raise
        except jinja2.TemplateError as exc:
            raise describe(exc, name, self.folders) from exc

    async def context(self, request: Request | None, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What a template rendered for ``request`` sees: ``request``, each extension's names, then ``context``."""
        names: dict[str, Any] = {}
        if request is not None:
            names["request"] = request
            assert self._app is not None
            for hook in self._app.extensions.template_contexts:
                names.update(await hook(request))
        if context:
            names.update(context)
        return names

    async def render_string(
        self, name: str, context: Mapping[str, Any] | None = None, *, request: Request | None = None
    ) -> str:
        """Render the template ``name`` to text, for a mail or a fragment: ``await templates.render_string(...)``.

        Without ``request`` only the globals and ``context`` are available (no per-request names).
        """
        template = self.get_template(name)
        names = await self.context(request, context)
        try:
            return await template.render_async(names)
        except jinja2.TemplateNotFound:
            raise
        except jinja2.TemplateError as exc:
            raise describe(exc, name, self.folders) from exc

    def render(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> TemplateResponse:
        """Like :func:`plait.templates.render`, with this ``Templates`` (for apps with several)."""
        from plait.templates.responses import TemplateResponse

        return TemplateResponse(
            name, context, status_code=status_code, headers=headers, media_type=media_type, templates=self
        )


async def error_response(app: Plait[Any], request: Request, exc: Exception) -> Response:
    """The answer to a failed render: the app's handler for it, else a 500 (details only in debug)."""
    table = HandlerTable([app.exception_handlers])
    handled = await handle(table, request, exc)  # an HTTPException raised from a template global, say
    if handled is not None:
        return handled
    logger.error("Template error in %s %s", request.method, request.path, exc_info=exc)
    handler = table.by_status.get(500)
    if handler is not None:
        try:
            return await call_handler(handler, request, exc)
        except Exception:
            logger.exception("The 500 handler itself failed")
    if app.debug:
        return debug_response(request, exc)
    # Nothing about the template (name, line, variable, value) reaches the client: it is in the log.
    return ProblemResponse(500, detail="The server hit an error it did not expect. It has been logged.")

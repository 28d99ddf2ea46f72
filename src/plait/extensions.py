"""Extensions: how a battery (``plait.db``, later auth, sessions, admin, ...) plugs into an app.

A battery is a package the core never imports. It hands the app an :class:`Extension`, either
``Plait(extensions=[Database()])`` or ``app.install(Database())``, and the app asks it, **once, at
startup** (the first ``app.build()``, which the lifespan or the first request triggers), for what it
contributes:

==========================  ===========================================================================
hook                        contributes
==========================  ===========================================================================
``settings_type``           a msgspec ``Struct`` read from ``PLAIT_*`` variables, set as ``self.settings``
``setup(app)``              a place to validate the settings and prepare (raise ``ConfigurationError``)
``lifespan(app)``           an async context manager entered in ``app.running()`` (install order, exited
                            in reverse, around the app's own startup hooks and lifespan)
``providers()``             ``{annotation: Depends(provider)}``: a parameter annotated with that type and no
                            marker gets the provider (``db: AsyncSession``), in handlers, dependencies,
                            WebSockets, background tasks and ``app.container.call``
``middleware()``            app-wide middleware, inside the app's own
``routers()``               routers included in the app
``pages()``                 routers the app serves beside its API: app and router ``dependencies`` do not
                            guard them (the docs pages; a login page)
``exception_handlers()``    app-level handlers; the app's own handler for the same key wins
``wrap_route(route, asgi)`` per compiled route, an ASGI wrapper (or the endpoint unchanged), decided at
                            startup so that routes that do not use the battery pay nothing
``commands()``              click commands and groups the ``plait`` CLI offers (``plait db check``)
``openapi_components()``    ``{"securitySchemes": {...}, "schemas": {...}}`` merged into the document
``template_globals()``      names every template sees
``template_context(req)``   async, per render: names that depend on the request (CSRF token, user, flashes)
``shell_context(app)``      an async context manager giving names for ``plait shell`` (``db``, models), entered
                            while the app runs
``pytest_plugins``          modules of pytest fixtures; list them in the root ``conftest.py``:
                            ``pytest_plugins = ["plait.db.testing"]``
==========================  ===========================================================================

Nothing is wired by importing a battery: an extension does nothing until it is installed, and the
core looks nothing up per request that it could decide at startup.

>>> from plait import Plait
>>> class Greeter(Extension):
...     name = "greeter"
...     def template_globals(self) -> dict[str, str]:
...         return {"greeting": "hello"}
>>> app = Plait(extensions=[Greeter()])
>>> _ = app.build()
>>> app.extensions.template_globals
{'greeting': 'hello'}
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import msgspec

from plait.codec.types import unwrap_annotated
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.routing.router import ExceptionHandler, ExceptionKey, Router
from plait.routing.stack import Middleware
from plait.settings import load_settings

if TYPE_CHECKING:
    import click

    from plait._types import ASGIApp
    from plait.app import CompiledRoute, Plait
    from plait.requests import Request

E = TypeVar("E", bound="Extension")

DEFAULT_EXTENSIONS: Mapping[str, str] = {"openapi": "plait.openapi.extension:OpenAPI"}
"""Extensions an app installs itself unless one of the same name is installed, by ``module:class`` path.

Only ``openapi`` (the document and the docs pages, on unless ``Plait(openapi_url=None, docs_url=None,
redoc_url=None)``). It is named here as configuration, like a Django ``INSTALLED_APPS`` entry, rather
than imported: the core depends on the :class:`Extension` protocol alone, the OpenAPI layer above it is
imported only when an app actually starts with its docs on, and no module registers anything by being
imported (a registry filled at import time would depend on who imported what first).
"""


class Extension:
    """Base class of every battery's extension; override only the hooks you need.

    ``name`` identifies the extension: an app installs each name once (``app.extensions["database"]``).
    """

    name: ClassVar[str] = ""
    settings_type: ClassVar[type[Any] | None] = None
    """A ``msgspec.Struct`` (or dataclass) read from ``PLAIT_*`` variables at startup, then ``self.settings``."""
    pytest_plugins: ClassVar[tuple[str, ...]] = ()

    settings: Any = None

    def load_settings(self) -> Any:
        """Read ``settings_type`` from the environment (and ``.env``); override to apply constructor arguments."""
        return load_settings(self.settings_type) if self.settings_type is not None else None

    def settings_with(self, given: Any, overrides: Mapping[str, Any]) -> Any:
        """``given`` settings (else the environment's), with ``overrides`` (constructor arguments) applied.

        For a ``load_settings`` override: ``return self.settings_with(self._given, {"cache_prefix": prefix})``.
        """
        settings = given if given is not None else Extension.load_settings(self)
        return msgspec.structs.replace(settings, **overrides) if overrides else settings

    def setup(self, app: Plait[Any]) -> None:
        """Validate and prepare, once, with ``self.settings`` loaded; raise ConfigurationError naming the fix."""

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[Any] | None:
        """Open and close what the extension needs (engines, pools, clients) around the app's life."""
        return None

    def providers(self) -> Mapping[Any, Depends]:
        """Providers chosen by a parameter's annotation: ``{AsyncSession: Depends(self.session)}``."""
        return {}

    def middleware(self) -> Sequence[Middleware]:
        return ()

    def routers(self) -> Sequence[Router]:
        return ()

    def pages(self) -> Sequence[Router]:
        """Routers served at the app's prefix but outside its API: app and router dependencies do not guard them."""
        return ()

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        return {}

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        """Wrap one compiled route's ASGI endpoint, or return it unchanged (the default)."""
        return endpoint

    def commands(self) -> Sequence[click.Command]:
        """Commands (usually one click group, such as ``db``) for the ``plait`` CLI."""
        return ()

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        """OpenAPI ``components`` sections: ``{"securitySchemes": {"bearer": {...}}}``."""
        return {}

    def template_globals(self) -> Mapping[str, Any]:
        return {}

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        """Names for every template rendered while handling ``request`` (``csrf_token``, ``current_user``)."""
        return {}

    def shell_context(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[Mapping[str, Any]] | None:
        """Names ``plait shell`` offers (``db``, the models), opened and closed inside the running app."""
        return None


class Extensions(Sequence[Extension]):
    """The extensions installed in one app, in install order, and what they contributed at startup."""

    def __init__(self) -> None:
        self._items: list[Extension] = []
        self._ready: set[str] = set()
        self.started = False
        self.providers: dict[Any, Depends] = {}
        self._owners: dict[Any, str] = {}
        self.middleware: list[Middleware] = []
        self.pages: list[Router] = []
        self.openapi_components: dict[str, dict[str, Any]] = {}
        self.template_globals: dict[str, Any] = {}
        self.template_contexts: list[Callable[[Request], Awaitable[Mapping[str, Any]]]] = []
        """The ``template_context`` hooks of the extensions that define one, in install order."""
        self._stack: contextlib.AsyncExitStack | None = None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Extension]:
        return iter(self._items)

    def __getitem__(self, key: Any) -> Any:
        """By position, or by name: ``app.extensions["database"]``."""
        if isinstance(key, str):
            for ext in self._items:
                if ext.name == key:
                    return ext
            known = ", ".join(ext.name for ext in self._items) or "none"
            raise KeyError(f"No extension named {key!r} is installed (installed: {known}); app.install() it.")
        return self._items[key]

    def add(self, ext: Extension) -> None:
        if not isinstance(ext, Extension):
            raise ConfigurationError(
                f"{ext!r} is not a plait.extensions.Extension; install an instance, as in app.install(Database())."
            )
        if self.started:
            raise ConfigurationError(
                f"Cannot install {ext.name or type(ext).__name__!r}: the app has already started (it compiled its "
                "routes). Install extensions right after creating the app, or pass Plait(extensions=[...])."
            )
        if not ext.name:
            raise ConfigurationError(f"{type(ext).__qualname__} has no name; set the class attribute name = '...'.")
        if any(other.name == ext.name for other in self._items):
            raise ConfigurationError(
                f"An extension named {ext.name!r} is already installed; install each extension once "
                "(remove the second app.install() or the duplicate in Plait(extensions=[...]))."
            )
        self._items.append(ext)

    # -- startup ------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        """Load settings and collect every contribution, once per extension (called by ``app.build()``)."""
        self.started = True
        for ext in self._items:
            if ext.name in self._ready:
                continue
            ext.settings = ext.load_settings()
            ext.setup(app)
            self._collect(app, ext)
            self._ready.add(ext.name)

    def _collect(self, app: Plait[Any], ext: Extension) -> None:
        for annotation, provider in ext.providers().items():
            base, _ = unwrap_annotated(annotation)
            if base in self.providers:
                raise ConfigurationError(
                    f"Extensions {self._owners[base]!r} and {ext.name!r} both provide {base!r}; install only one."
                )
            self.providers[base] = provider
            self._owners[base] = ext.name
        app.container.compiler.providers.update(self.providers)
        self.middleware.extend(ext.middleware())
        for router in ext.routers():
            app.include_router(router)
        self.pages.extend(ext.pages())
        for key, handler in ext.exception_handlers().items():
            app.exception_handlers.setdefault(key, handler)
        for section, entries in ext.openapi_components().items():
            target = self.openapi_components.setdefault(section, {})
            clash = target.keys() & entries.keys()
            if clash:
                raise ConfigurationError(
                    f"Extension {ext.name!r} adds OpenAPI {section} {sorted(clash)} that another extension "
                    "already added; rename one."
                )
            target.update(entries)
        self.template_globals.update(ext.template_globals())
        if type(ext).template_context is not Extension.template_context:
            self.template_contexts.append(ext.template_context)

    def wrap(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        for ext in self._items:
            endpoint = ext.wrap_route(route, endpoint)
        return endpoint

    def commands(self) -> list[click.Command]:
        """Every extension's CLI commands, in install order."""
        return [command for ext in self._items for command in ext.commands()]

    def pytest_plugins(self) -> list[str]:
        """Every extension's pytest fixture modules, for ``pytest_plugins = app.extensions.pytest_plugins()``."""
        return [module for ext in self._items for module in ext.pytest_plugins]

    # -- lifespan -----------------------------------------------------------------------------------

    async def start(self, app: Plait[Any]) -> None:
        """Enter each extension's lifespan in install order; on a failure, close those already open."""
        stack = contextlib.AsyncExitStack()
        try:
            for ext in self._items:
                manager = ext.lifespan(app)
                if manager is not None:
                    await stack.enter_async_context(manager)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack

    async def stop(self) -> None:
        """Leave the lifespans entered by :meth:`start`, newest first."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()


def default_extension(name: str) -> Extension:
    """A new instance of the default extension ``name`` (see :data:`DEFAULT_EXTENSIONS`), imported now.

    >>> default_extension("openapi").name
    'openapi'
    """
    module, _, attribute = DEFAULT_EXTENSIONS[name].partition(":")
    extension: Extension = getattr(importlib.import_module(module), attribute)()
    return extension


def installed(extensions: Extensions, ext: E) -> E:
    """Add ``ext`` and hand it back (``db = app.install(Database())``)."""
    extensions.add(ext)
    return ext

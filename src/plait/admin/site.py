"""``Admin``: the extension that mounts the admin site and holds the registered models."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession

from plait.admin.models import LOG_TABLE
from plait.admin.options import ModelAdmin
from plait.exceptions import ConfigurationError, HTTPException
from plait.extensions import Extension
from plait.requests import Request
from plait.responses import HTMLResponse, RedirectResponse
from plait.routing.router import Router

if TYPE_CHECKING:
    from plait.app import Plait

__all__ = ["Admin", "Denied"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MIGRATIONS = HERE / "migrations"
REQUIRED = ("database", "sessions", "csrf", "auth")
ACTIONS = ("view", "add", "change", "delete")
M = TypeVar("M", bound=type[Any])


class Denied(Exception):
    """The user may not see this page: a 403 page (or the login page for an anonymous visitor)."""

    def __init__(self, message: str, *, login: bool = False) -> None:
        super().__init__(message)
        self.login = login


class Admin(Extension):
    """Django's admin, on the app's models: ``app.install(Admin())``, then ``admin.register(Article)``.

    Needs ``Database``, ``Sessions``, ``CSRF`` and ``Auth`` installed too. Only active staff users
    enter; each model needs the permission ``<table>.view`` / ``.add`` / ``.change`` / ``.delete``
    (superusers have all). ``plait db migrate`` creates the history table (``plait_admin_log``).

    >>> from sqlalchemy import Integer, String
    >>> from sqlalchemy.orm import DeclarativeBase, mapped_column
    >>> class Base(DeclarativeBase): ...
    >>> class Note(Base):  # as usual with Mapped[...] annotations; spelled without them for this doctest
    ...     __tablename__ = "doctest_admin_note"
    ...     id = mapped_column(Integer, primary_key=True)
    ...     text = mapped_column(String, nullable=False)
    >>> admin = Admin()
    >>> @admin.register(Note)
    ... class NoteAdmin(ModelAdmin):
    ...     search_fields = ("text",)
    >>> admin.registry["doctest_admin_note"].verbose_plural
    'Notes'
    """

    name = "admin"
    migrations_location: ClassVar[Path] = MIGRATIONS
    """Read by ``plait db``: the history table's revision is applied with the project's own."""
    migrations_tables: ClassVar[frozenset[str]] = frozenset({LOG_TABLE})

    def __init__(self, prefix: str = "/admin", *, title: str = "Administration", recent_actions: int = 10) -> None:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ConfigurationError(f"Admin(prefix={prefix!r}): start it with '/' and end it without one ('/admin').")
        self.prefix = prefix
        self.title = title
        self.recent_actions = recent_actions
        self.registry: dict[str, ModelAdmin] = {}
        self.app: Plait[Any] | None = None
        self.environment: jinja2.Environment | None = None
        self.css_version = hashlib.sha256((STATIC / "admin.css").read_bytes()).hexdigest()[:12]
        self.js_version = hashlib.sha256((STATIC / "admin.js").read_bytes()).hexdigest()[:12]

    # -- registering models ---------------------------------------------------------------------------

    @overload
    def register(self, model: type[Any], admin_class: type[ModelAdmin]) -> ModelAdmin: ...
    @overload
    def register(self, model: type[Any], admin_class: None = None) -> Callable[[M], M]: ...

    def register(self, model: type[Any], admin_class: type[ModelAdmin] | None = None) -> Any:
        """Show ``model`` in the admin: ``admin.register(Article, ArticleAdmin)``, or as a class decorator.

        ``admin.register(Article)`` used as a plain call (its result ignored) registers it with the
        defaults as well: the decorator form only replaces them.
        """
        if admin_class is not None:
            return self._add(model, admin_class)
        entry = self._add(model, ModelAdmin)

        def decorate(cls: M) -> M:
            if not (isinstance(cls, type) and issubclass(cls, ModelAdmin)):
                raise ConfigurationError(f"@admin.register({model.__name__}) decorates a ModelAdmin subclass.")
            del self.registry[entry.key]
            self._add(model, cls)
            return cls

        return decorate

    def _add(self, model: type[Any], admin_class: type[ModelAdmin]) -> ModelAdmin:
        if self.app is not None:
            raise ConfigurationError("Register models before the app starts (at import time, next to Admin()).")
        entry = admin_class(model)
        if entry.key in self.registry:
            raise ConfigurationError(f"{model.__name__} is already registered in this admin; register it once.")
        self.registry[entry.key] = entry
        return entry

    # -- startup ----------------------------------------------------------------------------------------

    def setup(self, app: Plait[Any]) -> None:
        names = {ext.name for ext in app.extensions}
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise ConfigurationError(
                f"Admin needs the {', '.join(missing)} extension(s): app = Plait(extensions=[Database(), "
                "Sessions(), CSRF(), Auth(), Admin()]) (CSRF guards every admin form; Auth logs staff in)."
            )
        self.app = app
        folders = [str(TEMPLATES)]
        templates = next((ext for ext in app.extensions if ext.name == "templates"), None)
        if templates is not None:
            # The app's own folders first: an app overrides admin/base.html by shipping its own.
            folders = [*getattr(templates, "folders", []), *folders]
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=True,  # everything from the database is escaped, in every template
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def pages(self) -> Sequence[Router]:
        from plait.admin.views import admin_router

        return [admin_router(self)]

    # -- helpers for the views -------------------------------------------------------------------------

    def base_url(self, request: Request) -> str:
        app_prefix = getattr(self.app, "prefix", "") or ""
        return str(request.scope.get("root_path", "")) + app_prefix + self.prefix

    def entry(self, key: str) -> ModelAdmin:
        found = self.registry.get(key)
        if found is None:
            raise HTTPException(404, f"No model {key!r} is registered in the admin.")
        return found

    async def user(self, request: Request, db: AsyncSession) -> Any:
        """The logged-in staff user; :class:`Denied` otherwise (the login page for anonymous visitors)."""
        from plait.auth.identity import optional_user

        session = request.scope.get("session")
        if session is not None:
            # Read now, asynchronously: the page reads flash messages from it (and a server-side
            # store cannot be read synchronously), even when the user came with a token instead.
            await session.load()
        user = await optional_user(request, db)
        if user is None:
            raise Denied("Log in to continue.", login=True)
        if not (user.is_active and user.is_staff):
            raise Denied("This account may not use the admin: it is not a staff account.")
        return user

    async def permissions(self, request: Request, db: AsyncSession, user: Any) -> Callable[[ModelAdmin, str], bool]:
        """A ``may(entry, action)`` test for this user, with their permissions read once per request."""
        if user.is_superuser:
            return lambda entry, action: True
        from plait.auth.permissions import get_permissions

        granted = await get_permissions(db, user, request.scope.setdefault("plait.auth", {}))

        def may(entry: ModelAdmin, action: str) -> bool:
            # Whoever may change objects may look at them, as in Django.
            wanted = {f"{entry.perm_prefix}.{action}"}
            if action == "view":
                wanted.add(f"{entry.perm_prefix}.change")
            return not wanted.isdisjoint(granted)

        return may

    def render(
        self, request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200
    ) -> HTMLResponse:
        assert self.environment is not None  # built at setup, before any request
        from plait.csrf import csrf_token
        from plait.sessions import get_flashed_messages

        session = request.scope.get("session")
        base = self.base_url(request)
        names = {
            "request": request,
            "site": self,
            "base": base,
            "css": f"{base}/static/admin.css?v={self.css_version}",
            "js": f"{base}/static/admin.js?v={self.js_version}",
            "csrf_token": lambda: csrf_token(request),
            "messages": get_flashed_messages(session, with_categories=True) if session is not None else [],
            "user": None,
            "nav": [],
            **context,
        }
        html = self.environment.get_template(name).render(names)
        return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

    def denied(self, request: Request, exc: Denied) -> HTMLResponse | RedirectResponse:
        if exc.login:
            from urllib.parse import quote

            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{self.base_url(request)}/login?next={quote(target)}", status_code=303)
        return self.render(request, "admin/denied.html", {"message": str(exc), "title": "Forbidden"}, status_code=403)

    async def create_permissions(self, db: AsyncSession) -> list[str]:
        """Add the missing rows of :meth:`permission_codenames` to the auth battery's table; their codenames.

        Run it once after registering models (a migration, a fixture, ``plait shell``), then put the
        permissions in groups. The session is flushed, not committed.
        """
        from sqlalchemy import select

        from plait.auth.models import Permission

        wanted = dict(self.permission_codenames())
        have = set((await db.scalars(select(Permission.codename).where(Permission.codename.in_(wanted)))).all())
        added = [codename for codename in wanted if codename not in have]
        db.add_all(Permission(codename=codename, name=wanted[codename]) for codename in added)
        await db.flush()
        return added

    def permission_codenames(self) -> list[tuple[str, str]]:
        """Every permission the registered models use, as ``(codename, name)``.

        >>> Admin().permission_codenames()
        []
        """
        found = []
        for entry in self.registry.values():
            for action in ACTIONS:
                found.append((f"{entry.perm_prefix}.{action}", f"Can {action} {entry.verbose_plural.lower()}"))
        return found

"""The admin site: Django's admin on async SQLAlchemy, driven by the same model declarations.

::

    from plait import Plait
    from plait.admin import Admin, ModelAdmin, action
    from plait.auth import Auth
    from plait.csrf import CSRF
    from plait.db import Database
    from plait.sessions import Sessions

    admin = Admin()                                   # served at /admin

    @admin.register(Article)
    class ArticleAdmin(ModelAdmin):
        list_display = ("title", "author", "published")
        search_fields = ("title", "body")
        list_filter = ("published", "author_id")
        prepopulated_fields = {"slug": ("title",)}

    admin.register(Tag)                               # every option has a default

    app = Plait(extensions=[Database(), Sessions(), CSRF(), Auth(), admin])

Only active staff users log in (``/admin/login``); a superuser may do anything, others need the
permissions ``article.view``, ``article.add``, ``article.change`` and ``article.delete`` (the table
name, then the action) from the auth battery. Every add, change and delete is recorded in
``plait_admin_log`` in the same transaction. Install the dependencies with ``pip install 'plait[admin]'``.
"""

try:
    import jinja2  # noqa: F401 - checked here so the message can say what to install
    import sqlalchemy.ext.asyncio  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"plait.admin needs Jinja2 and SQLAlchemy ({exc}); install them with: pip install 'plait[admin]'"
    ) from exc

from plait.admin.models import LogEntry
from plait.admin.options import Action, InlineAdmin, ModelAdmin, action
from plait.admin.site import Admin
from plait.admin.users import GroupAdmin, UserAdmin

__all__ = ["Action", "Admin", "GroupAdmin", "InlineAdmin", "LogEntry", "ModelAdmin", "UserAdmin", "action"]

"""The database battery: SQLAlchemy 2.x (async) on SQLite and PostgreSQL, plugged in as an extension.

::

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from plait import Plait
    from plait.db import Database

    app = Plait(extensions=[Database()])    # PLAIT_DATABASE_URL, or a SQLite file next to the app

    @app.get("/answer")
    async def answer(db: AsyncSession) -> int:
        return (await db.execute(text("select 42"))).scalar_one()

The session is opened for the request, committed before the response starts when the handler
succeeds (rolled back on an exception or an error response), and closed afterwards. A database
that is down, or a pool that stays exhausted for ``PLAIT_DATABASE_POOL_TIMEOUT`` seconds, gives a
503 problem response. Install the dependencies with ``pip install 'plait[db]'``.
"""

try:
    import sqlalchemy.ext.asyncio  # noqa: F401 - checked here so the message can say what to install
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"plait.db needs SQLAlchemy 2 with its asyncio extra ({exc}); install it with: pip install 'plait[db]'"
    ) from exc

from plait.db.crud import crud_router
from plait.db.errors import DatabaseUnavailable
from plait.db.extension import Database
from plait.db.filters import FilterQuery, Filters
from plait.db.models import UUIDPK, IntPK, Model, Timestamps, UTCDateTime
from plait.db.pagination import CursorPage, Page, paginate, paginate_cursor
from plait.db.queries import bulk_create, exists, first, get_or_404
from plait.db.schemas import ModelSchemas, apply, create_schema, read_schema, schemas, update_schema, values
from plait.db.settings import DatabaseSettings

__all__ = [
    "UUIDPK",
    "CursorPage",
    "Database",
    "DatabaseSettings",
    "DatabaseUnavailable",
    "FilterQuery",
    "Filters",
    "IntPK",
    "Model",
    "ModelSchemas",
    "Page",
    "Timestamps",
    "UTCDateTime",
    "apply",
    "bulk_create",
    "create_schema",
    "crud_router",
    "exists",
    "first",
    "get_or_404",
    "paginate",
    "paginate_cursor",
    "read_schema",
    "schemas",
    "update_schema",
    "values",
]

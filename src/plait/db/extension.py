"""``Database``: the extension that opens the engine for the app's life and provides sessions."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from plait.concurrency import ThreadPool
from plait.db.engine import create_engine, create_sync_engine, database_url, sync_url
from plait.db.errors import connection_lost, pool_exhausted
from plait.db.schemas import GuardedSession
from plait.db.sessions import CommitBeforeResponse, session_scope, sync_session_scope, uses
from plait.db.settings import DatabaseSettings
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.routing.router import WEBSOCKET, ExceptionHandler, ExceptionKey
from plait.settings import load_settings

if TYPE_CHECKING:
    import click

    from plait._types import ASGIApp
    from plait.app import CompiledRoute, Plait


class Database(Extension):
    """SQLAlchemy's async engine for the app's life, and an ``AsyncSession`` per request.

    ``url`` wins over ``PLAIT_DATABASE_URL``; with neither, a SQLite file ``db.sqlite3`` sits next to
    the module that created this ``Database``. Other settings come from ``PLAIT_DATABASE_*``
    variables (:class:`~plait.db.DatabaseSettings`) unless ``settings`` is given.

    >>> from plait import Plait
    >>> app = Plait()
    >>> db = app.install(Database("sqlite+aiosqlite:///:memory:"))
    >>> _ = app.build()
    >>> db.url.drivername
    'sqlite+aiosqlite'
    """

    name = "database"
    settings_type = DatabaseSettings
    pytest_plugins = ("plait.db.testing",)
    settings: DatabaseSettings

    def __init__(
        self,
        url: str | None = None,
        *,
        metadata: MetaData | None = None,
        migrations: str | Path | None = None,
        settings: DatabaseSettings | None = None,
    ) -> None:
        self._url = url
        self._given = settings
        self._metadata = metadata
        self._migrations = migrations
        caller = inspect.currentframe()
        module_file = caller.f_back.f_globals.get("__file__") if caller and caller.f_back else None
        self._home = Path(module_file).resolve().parent if module_file else Path.cwd()
        self._engine: AsyncEngine | None = None
        self._maker: async_sessionmaker[AsyncSession] | None = None
        # The sync engine (``db: Session`` in sync handlers) exists only when something asks for it.
        self._sync_engine: Engine | None = None
        self._sync_maker: sessionmaker[Session] | None = None
        self._wants_sync = False
        self._pool = ThreadPool()
        self.url: URL | None = None
        self.app_extensions: Sequence[Extension] = ()

    def load_settings(self) -> DatabaseSettings:
        settings = self._given if self._given is not None else load_settings(DatabaseSettings)
        if self._url is not None:
            settings = DatabaseSettings(**{**_as_dict(settings), "database_url": self._url})
        return settings

    def setup(self, app: Plait[Any]) -> None:
        self.url = database_url(self.settings.database_url, self._home)
        self._pool = app.container.pool
        self.app_extensions = app.extensions  # batteries that ship migrations (plait.db.migrations.shipped)

    @property
    def metadata(self) -> MetaData:
        """The tables ``plait db makemigrations`` compares with the database (default: ``plait.db.Model``'s)."""
        if self._metadata is None:
            from plait.db.models import Model

            self._metadata = Model.metadata
        return self._metadata

    @property
    def migrations(self) -> Path:
        """The migrations folder: ``migrations=``, else ``PLAIT_DATABASE_MIGRATIONS``, else next to the app."""
        given = self._migrations if self._migrations is not None else self.settings.database_migrations
        return self._home / (given or "migrations")

    @property
    def engine(self) -> AsyncEngine:
        """The engine, while the app runs (between lifespan startup and shutdown)."""
        if self._engine is None:
            raise ConfigurationError(
                "The database engine exists only while the app runs; use it inside the lifespan "
                "(a request, `async with app.running():`, or a TestClient block)."
            )
        return self._engine

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        assert self.url is not None  # set by setup(), which runs before any lifespan
        self._engine = create_engine(self.url, self.settings)
        # GuardedSession: a relationship read without being loaded names the fix (see plait.db.schemas).
        self._maker = async_sessionmaker(self._engine, expire_on_commit=False, sync_session_class=GuardedSession)
        if self._wants_sync:
            self._open_sync()
        try:
            yield
        finally:
            engine, self._engine, self._maker = self._engine, None, None
            sync_engine, self._sync_engine, self._sync_maker = self._sync_engine, None, None
            try:
                await engine.dispose()
            finally:
                if sync_engine is not None:
                    await self._pool.run(sync_engine.dispose)

    def _open_sync(self) -> sessionmaker[Session]:
        """Create the sync engine (no connection is opened yet) and its session factory."""
        assert self.url is not None  # set by setup(), which runs before any lifespan
        self._sync_engine = create_sync_engine(sync_url(self.url), self.settings)
        self._sync_maker = sessionmaker(self._sync_engine, expire_on_commit=False)
        return self._sync_maker

    @property
    def sync_engine(self) -> Engine:
        """The sync engine behind ``db: Session``, while the app runs (made on first use if no route asked)."""
        self.engine  # noqa: B018 - raises the explanation when the app is not running
        if self._sync_engine is None:
            self._open_sync()
        assert self._sync_engine is not None
        return self._sync_engine

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    @contextlib.asynccontextmanager
    async def isolated(self) -> AsyncIterator[AsyncConnection]:
        """Run every session opened inside the block in one transaction, rolled back at the end (for tests).

        Sessions join the transaction through savepoints, so a handler's commit or rollback works as
        usual and nothing outlives the block. All sessions share one connection meanwhile: run the
        requests of one test one after another.
        """
        async with self.engine.connect() as connection:
            transaction = await connection.begin()
            previous = self._maker
            self._maker = async_sessionmaker(
                bind=connection,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
                sync_session_class=GuardedSession,
            )
            try:
                async with self._isolated_sync():
                    yield connection
            finally:
                self._maker = previous
                await transaction.rollback()

    @contextlib.asynccontextmanager
    async def _isolated_sync(self) -> AsyncIterator[None]:
        """The same for sync sessions, on a sync connection of their own, when the sync engine is in use."""
        if self._sync_engine is None:
            yield
            return
        connection = await self._pool.run(self._sync_engine.connect)
        transaction = await self._pool.run(connection.begin)
        previous = self._sync_maker
        self._sync_maker = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield
        finally:
            self._sync_maker = previous
            await self._pool.run(transaction.rollback)
            await self._pool.run(connection.close)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """The provider behind ``db: AsyncSession``: one session per request (or task, or call)."""
        if self._maker is None:
            self.engine  # noqa: B018 - raises the explanation
        async with session_scope(self._maker) as session:  # type: ignore[arg-type]
            yield session

    async def sync_session(self) -> AsyncIterator[Session]:
        """The provider behind ``db: Session`` (sync handlers): one sync session per request, same rules.

        The session is made on the event loop (that does no I/O); the handler uses it in its thread, and
        the commit, rollback and close run in the app's thread pool.
        """
        self.engine  # noqa: B018 - raises the explanation when the app is not running
        maker = self._sync_maker or self._open_sync()
        async with sync_session_scope(maker, self._pool) as session:
            yield session

    def _engine_value(self) -> AsyncEngine:
        return self.engine

    def _sync_engine_value(self) -> Engine:
        return self.sync_engine

    def providers(self) -> Mapping[Any, Depends]:
        return {
            AsyncSession: Depends(self.session),
            AsyncEngine: Depends(self._engine_value),
            Session: Depends(self.sync_session),
            Engine: Depends(self._sync_engine_value),
        }

    def exception_handlers(self) -> Mapping[ExceptionKey, ExceptionHandler]:
        return {sa_exc.TimeoutError: pool_exhausted, sa_exc.DBAPIError: connection_lost}

    def wrap_route(self, route: CompiledRoute, endpoint: ASGIApp) -> ASGIApp:
        plans = (route.plan, *route.guards)
        sync_session = any(uses(plan, self.sync_session) for plan in plans)
        if sync_session or any(uses(plan, self._sync_engine_value) for plan in plans):
            self._wants_sync = True  # the lifespan then opens the sync engine too
        if WEBSOCKET in route.placed.route.methods:
            return endpoint  # a WebSocket's session commits when the handler returns
        if not (sync_session or any(uses(plan, self.session) for plan in plans)):
            return endpoint  # PERF: routes without a session are served unwrapped
        return CommitBeforeResponse(endpoint, route.placed.chain[0])

    def commands(self) -> Sequence[click.Command]:
        from plait.db.cli import db_group

        return [db_group]

    def shell_context(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[Mapping[str, Any]]:
        from plait.db.shell import shell_names

        return shell_names(self)


def _as_dict(settings: DatabaseSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}

"""``DatabaseStore``: sessions in a ``plait_session`` table, through the app's :class:`~plait.db.Database`."""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401 - checked here so the message can say what to install
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        f"plait.sessions.stores.database needs SQLAlchemy ({exc}); install it with: pip install 'plait[db]'"
    ) from exc

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import String, Table, Text, delete, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Mapped, mapped_column

from plait.db.models import Model, UTCDateTime
from plait.exceptions import ConfigurationError
from plait.sessions.stores.base import SessionStore, new_key

if TYPE_CHECKING:
    from plait.app import Plait
    from plait.db.extension import Database

_DATA = msgspec.json.Decoder(dict[str, Any])


class SessionRecord(Model):
    """One saved session. It is part of ``Model.metadata``, so ``plait db makemigrations`` creates it."""

    __tablename__ = "plait_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


_TABLE: Table = SessionRecord.__table__  # type: ignore[assignment] # a declarative class has a Table


class DatabaseStore(SessionStore):
    """Sessions as rows of ``plait_session`` (key, JSON data, expiry), on the app's database.

    Needs ``app.install(Database())``. Expired rows are never loaded; delete them now and then with
    ``plait sessions clear-expired`` (a cron job), or ``await store.clear_expired()``.

    Each operation runs in a short transaction of its own on the engine, apart from the request's
    ``AsyncSession``: saving a session never commits the handler's unfinished work.
    """

    def __init__(self) -> None:
        self._database: Database | None = None

    def setup(self, app: Plait[Any]) -> None:
        try:
            self._database = app.extensions["database"]
        except KeyError:
            raise ConfigurationError(
                "DatabaseStore keeps sessions in the app's database, and no Database is installed: "
                "app.install(Database()) as well (from plait.db import Database), or use another store."
            ) from None

    @property
    def database(self) -> Database:
        if self._database is None:
            raise ConfigurationError("DatabaseStore is not set up yet; install Sessions(DatabaseStore()) in an app.")
        return self._database

    async def load(self, key: str) -> dict[str, Any] | None:
        query = select(_TABLE.c.data).where(_TABLE.c.key == key, _TABLE.c.expires > _now())
        async with self.database.engine.connect() as connection:
            raw = (await connection.execute(query)).scalar_one_or_none()
        if raw is None:
            return None
        try:
            return _DATA.decode(raw)
        except msgspec.DecodeError:
            return None

    async def save(self, key: str | None, data: dict[str, Any], max_age: int) -> str:
        payload = msgspec.json.encode(data).decode()
        expires = _now() + timedelta(seconds=max_age)
        async with self.database.engine.begin() as connection:
            if key is not None:
                changed = await connection.execute(
                    update(_TABLE).where(_TABLE.c.key == key).values(data=payload, expires=expires)
                )
                if changed.rowcount:
                    return key
                # The row was cleared meanwhile: write it again under the key the client already holds.
                await connection.execute(insert(_TABLE).values(key=key, data=payload, expires=expires))
                return key
        return await self._insert_new(payload, expires)

    async def _insert_new(self, payload: str, expires: datetime) -> str:
        while True:
            key = new_key()
            try:
                async with self.database.engine.begin() as connection:
                    await connection.execute(insert(_TABLE).values(key=key, data=payload, expires=expires))
            except sa_exc.IntegrityError:  # pragma: no cover - a 256-bit collision
                continue
            return key

    async def delete(self, key: str) -> None:
        async with self.database.engine.begin() as connection:
            await connection.execute(delete(_TABLE).where(_TABLE.c.key == key))

    async def clear_expired(self) -> int:
        async with self.database.engine.begin() as connection:
            result = await connection.execute(delete(_TABLE).where(_TABLE.c.expires <= _now()))
        return int(result.rowcount)


def _now() -> datetime:
    return datetime.now(UTC)

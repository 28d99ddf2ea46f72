"""Models and an app factory for the pagination, filter and CRUD tests, on each backend."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait import Plait, Settings
from plait.db import UUIDPK, Database, DatabaseSettings, IntPK, Model, Timestamps

# One set of tables per test process: several runs may share the PostgreSQL test database at once.
SUFFIX = os.getpid()
START = datetime(2024, 1, 1, tzinfo=UTC)


class Kind(enum.Enum):
    NEWS = "news"
    ESSAY = "essay"


class Author(Model, IntPK):
    __tablename__ = f"plait_l_author_{SUFFIX}"

    name: Mapped[str] = mapped_column(String(80), unique=True)
    password: Mapped[str] = mapped_column(String(80), default="secret")


class Article(Model, IntPK, Timestamps):
    __tablename__ = f"plait_l_article_{SUFFIX}"

    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str | None]
    score: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=False)
    # PostgreSQL enum types are database-wide: one name per test process, as for the tables.
    kind: Mapped[Kind] = mapped_column(Enum(Kind, name=f"plait_l_kind_{SUFFIX}"), default=Kind.NEWS)
    author_id: Mapped[int] = mapped_column(ForeignKey(f"{Author.__tablename__}.id"))
    author: Mapped[Author] = relationship(Author)


class Tag(Model, UUIDPK):
    __tablename__ = f"plait_l_tag_{SUFFIX}"

    label: Mapped[str] = mapped_column(String(40), unique=True)


TABLES = [Model.metadata.tables[model.__tablename__] for model in (Author, Article, Tag)]


def build(
    url: str,
    configure: Callable[[Plait[Any]], None],
    *,
    secret: str = "test-secret",  # noqa: S107 - a test key
) -> tuple[Plait[Any], Database]:
    """An app over fresh tables (created at startup, dropped at shutdown) with the routes ``configure`` adds."""
    db = Database(settings=DatabaseSettings(database_url=url))
    app = Plait(extensions=[db], settings=Settings(secret_key=secret))

    @app.on_startup
    async def fresh_tables() -> None:
        async with db.engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=TABLES)
            await connection.run_sync(Model.metadata.create_all, tables=TABLES)

    @app.on_shutdown
    async def drop_tables() -> None:
        async with db.engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all, tables=TABLES)

    configure(app)
    return app, db


async def seed(db: Database, titles: Iterable[str], **fields: Any) -> list[int]:
    """Articles by one author (made on first use), an hour apart from ``START``, score = position % 3."""
    async with AsyncSession(db.engine, expire_on_commit=False) as session:
        author = await session.scalar(select(Author).where(Author.name == "Ann"))
        if author is None:
            author = Author(name="Ann")
            session.add(author)
        rows = [
            Article(title=title, score=i % 3, created_at=START + timedelta(hours=i), author=author, **fields)
            for i, title in enumerate(titles)
        ]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]

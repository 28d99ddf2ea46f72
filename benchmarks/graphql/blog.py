"""The data every stack serves: authors, tags and articles (two tags each), the query, and the seed.

``BENCH_DB=sqlite`` (default; a WAL file under ``benchmarks/.generated/``) or ``postgres``
(``127.0.0.1:5432``, user postgres, database test). Tables are prefixed ``bench_gql_`` so that they
never meet the test suite's.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

GENERATED = Path(__file__).resolve().parent.parent / ".generated"
SQLITE_PATH = GENERATED / "graphql.sqlite3"
URLS = {
    "sqlite": f"sqlite+aiosqlite:///{SQLITE_PATH}",
    "postgres": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
}
AUTHORS, TAGS, ARTICLES, PAGE = 20, 10, 500, 20
POOL = 4  # connections per worker, as benchmarks/db does
QUERY = (
    f"query Nested {{ articles(limit: {PAGE}) {{ items {{ id title author {{ id name }} tags {{ id label }} }} }} }}"
)


def url() -> str:
    return URLS[os.environ.get("BENCH_DB", "sqlite")]


def engine() -> AsyncEngine:
    return create_async_engine(url(), pool_size=POOL, max_overflow=0)


class Base(DeclarativeBase):
    pass


article_tags = sa.Table(
    "bench_gql_article_tag",
    Base.metadata,
    sa.Column("article_id", sa.ForeignKey("bench_gql_article.id"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("bench_gql_tag.id"), primary_key=True),
)


class Author(Base):
    __tablename__ = "bench_gql_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class Tag(Base):
    __tablename__ = "bench_gql_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40))


class Article(Base):
    __tablename__ = "bench_gql_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("bench_gql_author.id"))
    author: Mapped[Author] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.id)


async def seed(backend: str) -> None:
    os.environ["BENCH_DB"] = backend
    GENERATED.mkdir(exist_ok=True)
    db = engine()
    async with db.begin() as connection:
        if backend == "sqlite":
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(sa.insert(Author), [{"id": i, "name": f"author {i}"} for i in range(1, AUTHORS + 1)])
        await connection.execute(sa.insert(Tag), [{"id": i, "label": f"tag {i}"} for i in range(1, TAGS + 1)])
        rows = [{"id": i, "title": f"article {i}", "author_id": 1 + i % AUTHORS} for i in range(1, ARTICLES + 1)]
        await connection.execute(sa.insert(Article), rows)
        links = [{"article_id": i, "tag_id": 1 + (i + k) % TAGS} for i in range(1, ARTICLES + 1) for k in (0, 3)]
        await connection.execute(sa.insert(article_tags), links)
    await db.dispose()


if __name__ == "__main__":
    for name in sys.argv[1:] or ["sqlite", "postgres"]:
        asyncio.run(seed(name))
        print(f"seeded {name}")

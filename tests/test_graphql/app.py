"""A small blog for the GraphQL tests: authors, articles and tags, a schema and an app factory."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Any

import anyio
import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from strawberry.file_uploads import Upload
from strawberry.tools import merge_types

from plait import Plait
from plait.datastructures import UploadFile
from plait.db import Database
from plait.exceptions import HTTPException
from plait.graphql import GraphQL, inject
from plait.graphql.generate import crud
from plait.graphql.models import model_type
from plait.requests import Request
from plait.settings import Settings


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    draft = "draft"
    live = "live"


article_tags = sa.Table(
    "gql_article_tag",
    Base.metadata,
    sa.Column("article_id", sa.ForeignKey("gql_article.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("gql_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Author(Base):
    __tablename__ = "gql_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    secret: Mapped[str] = mapped_column(sa.String(80), default="hidden")
    articles: Mapped[list[Article]] = relationship(back_populates="author")


class Tag(Base):
    __tablename__ = "gql_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40), unique=True)


class Article(Base):
    """A blog post."""

    __tablename__ = "gql_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(20), unique=True)
    body: Mapped[str] = mapped_column(default="")
    status: Mapped[Status] = mapped_column(default=Status.draft)
    views: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gql_author.id"))
    author: Mapped[Author | None] = relationship(back_populates="articles")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags)


AuthorType = model_type(Author, exclude=("secret",), relations=("articles",))
articles = crud(
    Article,
    relations={"author": AuthorType, "tags": model_type(Tag)},
    filters=("title", "views", "status"),
    order=("title", "views"),
    default_order=("title",),
)


@strawberry.type
class BlogQuery:
    @strawberry.field
    @inject
    async def method(self, request: Request, shout: bool = False) -> str:
        method = str(request.scope.get("method", "websocket"))  # a WebSocket has no method
        return method.upper() if shout else method.lower()

    @strawberry.field
    @inject
    async def author_count(self, db: AsyncSession) -> int:
        return int(await db.scalar(sa.select(sa.func.count()).select_from(Author)) or 0)

    @strawberry.field
    async def boom(self) -> str:
        raise RuntimeError("SELECT secret FROM gql_author failed")

    @strawberry.field
    @inject
    async def teapot(self, request: Request) -> str:
        raise HTTPException(409, "Already brewing.")


@strawberry.type
class Uploads:
    @strawberry.mutation
    async def upload(self, file: Upload) -> str:
        assert isinstance(file, UploadFile)
        upload: UploadFile = file
        return f"{upload.filename}:{(await upload.read()).decode()}"

    @strawberry.mutation
    async def uploads(self, files: list[Upload]) -> list[str]:
        return [f.filename or "" for f in files if isinstance(f, UploadFile)]


@strawberry.type
class Subscription:
    @strawberry.subscription
    @inject
    async def count(self, to: int, request: Request) -> AsyncIterator[int]:
        assert request.url.path == "/graphql"
        for number in range(1, to + 1):
            yield number
            await anyio.sleep(0)

    @strawberry.subscription
    async def forever(self) -> AsyncIterator[int]:
        number = 0
        while True:
            number += 1
            yield number
            await anyio.sleep(0.01)


Query = merge_types("Query", (articles.Query, BlogQuery))
Mutation = merge_types("Mutation", (articles.Mutation, Uploads))
schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)


def make_app(url: str, *, debug: bool = False, **options: Any) -> Plait[Any]:
    app = Plait(settings=Settings(debug=debug, secret_key="graphql-tests"))
    app.install(Database(url, metadata=Base.metadata))
    app.install(GraphQL(schema, **options))
    return app


async def create_tables(app: Plait[Any]) -> None:
    async with app.extensions["database"].engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)


async def drop_tables(app: Plait[Any]) -> None:
    async with app.extensions["database"].engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)

"""The same GraphQL API for the Strawberry peers, written as Strawberry's documentation writes it.

Resolvers read the request's ``AsyncSession`` and per-request DataLoaders from ``info.context``
(made by each framework's context getter); ``author`` and ``tags`` are batched by DataLoaders, so
the peers run the same number of statements per request as Plait.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
import strawberry
from blog import Article, Author, Tag, article_tags
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader


@strawberry.type(name="Author")
class AuthorType:
    id: int
    name: str


@strawberry.type(name="Tag")
class TagType:
    id: int
    label: str


@strawberry.type(name="Article")
class ArticleType:
    id: int
    title: str
    author_id: strawberry.Private[int]

    @strawberry.field
    async def author(self, info: strawberry.Info) -> AuthorType:
        return await info.context["authors"].load(self.author_id)  # type: ignore[no-any-return]

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[TagType]:
        return await info.context["tags"].load(self.id)  # type: ignore[no-any-return]


@strawberry.type(name="ArticlePage")
class ArticlePage:
    items: list[ArticleType]


def loaders(session: AsyncSession) -> dict[str, Any]:
    async def authors(keys: list[int]) -> list[AuthorType]:
        rows = await session.scalars(sa.select(Author).where(Author.id.in_(keys)))
        found = {row.id: AuthorType(id=row.id, name=row.name) for row in rows}
        return [found[key] for key in keys]

    async def tags(keys: list[int]) -> list[list[TagType]]:
        statement = (
            sa.select(article_tags.c.article_id, Tag)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(article_tags.c.article_id.in_(keys))
            .order_by(Tag.id)
        )
        grouped: dict[int, list[TagType]] = defaultdict(list)
        for article_id, tag in await session.execute(statement):
            grouped[article_id].append(TagType(id=tag.id, label=tag.label))
        return [grouped[key] for key in keys]

    return {"session": session, "authors": DataLoader(load_fn=authors), "tags": DataLoader(load_fn=tags)}


@strawberry.type
class Query:
    @strawberry.field
    async def articles(self, info: strawberry.Info, limit: int = 20, offset: int = 0) -> ArticlePage:
        session: AsyncSession = info.context["session"]
        rows = await session.scalars(sa.select(Article).order_by(Article.id).limit(min(limit, 100)).offset(offset))
        return ArticlePage(items=[ArticleType(id=r.id, title=r.title, author_id=r.author_id) for r in rows])


schema = strawberry.Schema(query=Query)

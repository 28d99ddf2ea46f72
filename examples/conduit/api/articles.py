"""``/articles``: list, feed, create, read, update and delete articles; favorite them; the tags."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession

from conduit import services
from conduit.accounts import Me, Viewer
from conduit.api.schemas import (
    MultipleArticlesResponse,
    NewArticleRequest,
    SingleArticleResponse,
    TagsResponse,
    UpdateArticleRequest,
)
from conduit.services import ArticleFilter
from plait.db import values
from plait.exceptions import ErrorDetail, RequestValidationError
from plait.routing import Router

router = Router(prefix="/articles", name="api_articles", tags=["Articles"])
favorites = Router(prefix="/articles", name="api_favorites", tags=["Favorites"])
tags = Router(name="api_tags", tags=["Tags"])

Limit = Annotated[int, Meta(ge=1, description="The numbers of items to return (at most 100).")]
Offset = Annotated[
    int, Meta(ge=0, description="The number of items to skip before starting to collect the result set.")
]


def _not_blank(**fields: object) -> None:
    """A 422 naming every text field that was sent empty (RealWorld's "can't be blank")."""
    details = [
        ErrorDetail(("body", "article", name), "can't be blank", "blank")
        for name, value in fields.items()
        if isinstance(value, str) and not value.strip()
    ]
    if details:
        raise RequestValidationError(details)


async def _page(
    db: AsyncSession, viewer: Viewer, where: ArticleFilter, limit: int, offset: int
) -> MultipleArticlesResponse:
    found, total = await services.list_articles(db, viewer, where, limit=limit, offset=offset)
    return MultipleArticlesResponse([article.preview() for article in found], total)


@router.get("", operation_id="GetArticles", summary="Get recent articles globally")
async def list_articles(
    viewer: Viewer,
    db: AsyncSession,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> MultipleArticlesResponse:
    """The most recent articles first, narrowed by ``tag``, ``author`` (a username) or ``favorited`` (a username)."""
    return await _page(db, viewer, ArticleFilter(tag=tag, author=author, favorited=favorited), limit, offset)


@router.get("/feed", operation_id="GetArticlesFeed", summary="Get recent articles from users you follow")
async def feed(me: Me, db: AsyncSession, limit: Limit = 20, offset: Offset = 0) -> MultipleArticlesResponse:
    """The most recent articles of the members the user follows."""
    return await _page(db, me, ArticleFilter(feed_of=me), limit, offset)


@router.post("", status_code=201, operation_id="CreateArticle", summary="Create an article")
async def create_article(data: NewArticleRequest, me: Me, db: AsyncSession) -> SingleArticleResponse:
    """Publish an article; its slug comes from the title (made unique with ``-2``, ``-3``...)."""
    given = data.article
    _not_blank(title=given.title, description=given.description, body=given.body)
    article = await services.create_article(
        db, me, title=given.title, description=given.description, body=given.body, tags=given.tag_list
    )
    return SingleArticleResponse(await services.article_view(db, article, me))


@router.get("/{slug}", operation_id="GetArticle", summary="Get an article")
async def get_article(slug: str, viewer: Viewer, db: AsyncSession) -> SingleArticleResponse:
    """One article, with its body."""
    article = await services.article_by_slug(db, slug)
    return SingleArticleResponse(await services.article_view(db, article, viewer))


@router.put("/{slug}", operation_id="UpdateArticle", summary="Update an article")
async def update_article(slug: str, data: UpdateArticleRequest, me: Me, db: AsyncSession) -> SingleArticleResponse:
    """Change the title, description or body (only the author may); a new title gives a new slug."""
    article = await services.article_by_slug(db, slug)
    services.check_author(article, me)
    changes = values(data.article)
    _not_blank(**changes)
    await services.update_article(db, article, **changes)
    return SingleArticleResponse(await services.article_view(db, article, me))


@router.delete("/{slug}", status_code=204, operation_id="DeleteArticle", summary="Delete an article")
async def delete_article(slug: str, me: Me, db: AsyncSession) -> None:
    """Delete an article (only its author may), with its comments and favorites."""
    article = await services.article_by_slug(db, slug)
    services.check_author(article, me)
    await db.delete(article)


@favorites.post("/{slug}/favorite", operation_id="CreateArticleFavorite", summary="Favorite an article")
async def favorite(slug: str, me: Me, db: AsyncSession) -> SingleArticleResponse:
    """Favorite an article (twice changes nothing)."""
    article = await services.favorite(db, me, slug)
    return SingleArticleResponse(await services.article_view(db, article, me))


@favorites.delete("/{slug}/favorite", operation_id="DeleteArticleFavorite", summary="Unfavorite an article")
async def unfavorite(slug: str, me: Me, db: AsyncSession) -> SingleArticleResponse:
    """Take a favorite back."""
    article = await services.unfavorite(db, me, slug)
    return SingleArticleResponse(await services.article_view(db, article, me))


@tags.get("/tags", operation_id="GetTags", summary="Get tags")
async def get_tags(db: AsyncSession) -> TagsResponse:
    """The tags in use, the most used first."""
    return TagsResponse(await services.popular_tags(db))

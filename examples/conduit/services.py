"""What the API and the site both do with the models: look up, list, slug, tag, follow, favorite, comment.

The functions take the request's ``AsyncSession`` and the viewer (the signed-in member or None) and
raise :class:`plait.exceptions.HTTPException` for a missing row (404) or a forbidden change (403);
each front end words those its own way (the API as ``{"errors": ...}``, the site as a page).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conduit import shapes
from conduit.models import Article, ArticleTag, Comment, Favorite, Follow, Member, Tag
from plait.db.models import utcnow
from plait.exceptions import HTTPException

MAX_LIMIT = 100
"""The most articles one page holds; a larger ``limit`` is lowered to it."""


# -- members and profiles ------------------------------------------------------------------------


async def member_named(db: AsyncSession, username: str) -> Member:
    member = (await db.execute(select(Member).where(Member.username == username))).scalar_one_or_none()
    if member is None:
        raise HTTPException(404, f"profile {username!r} not found")
    return member


async def followed_ids(db: AsyncSession, viewer: Member | None, ids: Sequence[int]) -> set[int]:
    """Which of the members ``ids`` the viewer follows (one query)."""
    if viewer is None or not ids:
        return set()
    query = select(Follow.followed_id).where(Follow.follower_id == viewer.id, Follow.followed_id.in_(set(ids)))
    return set((await db.execute(query)).scalars())


def profile_view(member: Member, following: bool) -> shapes.Profile:
    return shapes.Profile(username=member.username, bio=member.bio or "", image=member.image or "", following=following)


async def profile(db: AsyncSession, member: Member, viewer: Member | None) -> shapes.Profile:
    return profile_view(member, member.id in await followed_ids(db, viewer, [member.id]))


async def follow(db: AsyncSession, viewer: Member, username: str) -> shapes.Profile:
    """Follow ``username`` (doing it twice is fine); following oneself is refused."""
    member = await member_named(db, username)
    if member.id == viewer.id:
        raise HTTPException(422, "you cannot follow yourself")
    pair = select(Follow.id).where(Follow.follower_id == viewer.id, Follow.followed_id == member.id)
    if (await db.execute(pair)).first() is None:
        db.add(Follow(follower_id=viewer.id, followed_id=member.id))
        await db.flush()
    return profile_view(member, True)


async def unfollow(db: AsyncSession, viewer: Member, username: str) -> shapes.Profile:
    member = await member_named(db, username)
    await db.execute(delete(Follow).where(Follow.follower_id == viewer.id, Follow.followed_id == member.id))
    return profile_view(member, False)


# -- articles ------------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """``"How to Train Your Dragon!"`` -> ``"how-to-train-your-dragon"`` (ASCII, lower case, dashes).

    >>> slugify("  Ça va? Déjà vu -- encore!  ")
    'ca-va-deja-vu-encore'
    >>> slugify("???")
    'article'
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:200].rstrip("-") or "article"


async def unique_slug(db: AsyncSession, title: str, *, keep: Article | None = None) -> str:
    """The title's slug, with ``-2``, ``-3``... when another article already has it."""
    base = slugify(title)
    query = select(Article.slug).where((Article.slug == base) | Article.slug.like(f"{base}-%"))
    if keep is not None:
        query = query.where(Article.id != keep.id)
    taken = set((await db.execute(query)).scalars())
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def article_by_slug(db: AsyncSession, slug: str) -> Article:
    article = (await db.execute(select(Article).where(Article.slug == slug))).scalar_one_or_none()
    if article is None:
        raise HTTPException(404, f"article {slug!r} not found")
    return article


def clean_tags(names: Sequence[str]) -> list[str]:
    """Trimmed, non-empty, each once, in the order given."""
    seen: dict[str, None] = {}
    for name in names:
        tag = name.strip()
        if tag:
            seen.setdefault(tag[:64], None)
    return list(seen)


async def set_tags(db: AsyncSession, article: Article, names: Sequence[str]) -> None:
    """Give ``article`` exactly these tags (made when new), remembering their order."""
    wanted = clean_tags(names)
    existing = {tag.name: tag for tag in (await db.execute(select(Tag).where(Tag.name.in_(wanted)))).scalars()}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            db.add(existing[name])
    await db.flush()
    await db.execute(delete(ArticleTag).where(ArticleTag.article_id == article.id))
    db.add_all(ArticleTag(article_id=article.id, tag_id=existing[name].id, position=i) for i, name in enumerate(wanted))
    await db.flush()


async def create_article(
    db: AsyncSession, author: Member, *, title: str, description: str, body: str, tags: Sequence[str]
) -> Article:
    now = utcnow()  # one instant for both: a new article was never updated
    article = Article(
        slug=await unique_slug(db, title),
        title=title,
        description=description,
        body=body,
        author_id=author.id,
        created_at=now,
        updated_at=now,
    )
    db.add(article)
    await db.flush()
    await set_tags(db, article, tags)
    return article


def check_author(article: Article, viewer: Member) -> None:
    if article.author_id != viewer.id:
        raise HTTPException(403, "only the author of an article may change or delete it")


async def update_article(
    db: AsyncSession,
    article: Article,
    *,
    title: str | None = None,
    description: str | None = None,
    body: str | None = None,
    tags: Sequence[str] | None = None,
) -> Article:
    """Change what is given; a new title gives a new slug (the old URL stops working)."""
    if title is not None and title != article.title:
        article.title = title
        article.slug = await unique_slug(db, title, keep=article)
    if description is not None:
        article.description = description
    if body is not None:
        article.body = body
    if tags is not None:
        await set_tags(db, article, tags)
    await db.flush()
    return article


async def article_views(db: AsyncSession, articles: Sequence[Article], viewer: Member | None) -> list[shapes.Article]:
    """The views of ``articles`` in five queries whatever their number (authors, tags, counts, marks)."""
    ids = [article.id for article in articles]
    if not ids:
        return []
    author_ids = {article.author_id for article in articles}
    authors = {m.id: m for m in (await db.execute(select(Member).where(Member.id.in_(author_ids)))).scalars()}
    tag_rows = await db.execute(
        select(ArticleTag.article_id, Tag.name)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(ids))
        .order_by(ArticleTag.article_id, ArticleTag.position)
    )
    tags: dict[int, list[str]] = {}
    for article_id, name in tag_rows:
        tags.setdefault(article_id, []).append(name)
    count_rows = await db.execute(
        select(Favorite.article_id, func.count()).where(Favorite.article_id.in_(ids)).group_by(Favorite.article_id)
    )
    counts: dict[int, int] = {int(row[0]): int(row[1]) for row in count_rows}
    mine: set[int] = set()
    if viewer is not None:
        query = select(Favorite.article_id).where(Favorite.member_id == viewer.id, Favorite.article_id.in_(ids))
        mine = set((await db.execute(query)).scalars())
    following = await followed_ids(db, viewer, list(author_ids))
    return [
        shapes.Article(
            slug=a.slug,
            title=a.title,
            description=a.description,
            body=a.body,
            tag_list=tags.get(a.id, []),
            created_at=a.created_at,
            updated_at=a.updated_at,
            favorited=a.id in mine,
            favorites_count=counts.get(a.id, 0),
            author=profile_view(authors[a.author_id], a.author_id in following),
        )
        for a in articles
    ]


async def article_view(db: AsyncSession, article: Article, viewer: Member | None) -> shapes.Article:
    return (await article_views(db, [article], viewer))[0]


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """What a list of articles is narrowed to: a tag, an author, a member's favorites, or a feed."""

    tag: str | None = None
    author: str | None = None
    favorited: str | None = None
    feed_of: Member | None = None


def _filtered(query: Select[Any], where: ArticleFilter) -> Select[Any]:
    if where.tag is not None:
        tagged = select(ArticleTag.article_id).join(Tag, Tag.id == ArticleTag.tag_id).where(Tag.name == where.tag)
        query = query.where(Article.id.in_(tagged))
    if where.author is not None:
        query = query.where(Article.author_id.in_(select(Member.id).where(Member.username == where.author)))
    if where.favorited is not None:
        liked = select(Favorite.article_id).join(Member, Member.id == Favorite.member_id)
        query = query.where(Article.id.in_(liked.where(Member.username == where.favorited)))
    if where.feed_of is not None:
        followed = select(Follow.followed_id).where(Follow.follower_id == where.feed_of.id)
        query = query.where(Article.author_id.in_(followed))
    return query


async def list_articles(
    db: AsyncSession, viewer: Member | None, where: ArticleFilter, *, limit: int = 20, offset: int = 0
) -> tuple[list[shapes.Article], int]:
    """A page of matching articles, most recent first, and how many match in all."""
    total = (await db.execute(_filtered(select(func.count(Article.id)), where))).scalar_one()
    query = _filtered(select(Article), where).order_by(Article.created_at.desc(), Article.id.desc())
    rows = (await db.execute(query.limit(min(limit, MAX_LIMIT)).offset(offset))).scalars().all()
    return await article_views(db, rows, viewer), int(total)


async def favorite(db: AsyncSession, viewer: Member, slug: str) -> Article:
    article = await article_by_slug(db, slug)
    pair = select(Favorite.id).where(Favorite.member_id == viewer.id, Favorite.article_id == article.id)
    if (await db.execute(pair)).first() is None:
        db.add(Favorite(member_id=viewer.id, article_id=article.id))
        await db.flush()
    return article


async def unfavorite(db: AsyncSession, viewer: Member, slug: str) -> Article:
    article = await article_by_slug(db, slug)
    await db.execute(delete(Favorite).where(Favorite.member_id == viewer.id, Favorite.article_id == article.id))
    return article


async def popular_tags(db: AsyncSession, limit: int = 100) -> list[str]:
    """Tags in use, the most used first (then by name)."""
    uses = func.count(ArticleTag.article_id)
    query = select(Tag.name).join(ArticleTag, ArticleTag.tag_id == Tag.id).group_by(Tag.name)
    return list((await db.execute(query.order_by(uses.desc(), Tag.name).limit(limit))).scalars())


# -- comments ------------------------------------------------------------------------------------


async def comment_views(db: AsyncSession, article: Article, viewer: Member | None) -> list[shapes.Comment]:
    """The article's comments, most recent first."""
    query = (
        select(Comment, Member)
        .join(Member, Member.id == Comment.author_id)
        .where(Comment.article_id == article.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )
    rows = [(row[0], row[1]) for row in await db.execute(query)]
    following = await followed_ids(db, viewer, [member.id for _, member in rows])
    return [comment_view(comment, member, member.id in following) for comment, member in rows]


def comment_view(comment: Comment, author: Member, following: bool) -> shapes.Comment:
    return shapes.Comment(
        id=comment.id,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        body=comment.body,
        author=profile_view(author, following),
    )


async def add_comment(db: AsyncSession, viewer: Member, slug: str, body: str) -> shapes.Comment:
    article = await article_by_slug(db, slug)
    comment = Comment(body=body, article_id=article.id, author_id=viewer.id)
    db.add(comment)
    await db.flush()
    return comment_view(comment, viewer, False)


async def delete_comment(db: AsyncSession, viewer: Member, slug: str, comment_id: int) -> None:
    article = await article_by_slug(db, slug)
    comment = await db.get(Comment, comment_id)
    if comment is None or comment.article_id != article.id:
        raise HTTPException(404, f"comment {comment_id} not found on article {slug!r}")
    if comment.author_id != viewer.id:
        raise HTTPException(403, "only the author of a comment may delete it")
    await db.delete(comment)
    await db.flush()

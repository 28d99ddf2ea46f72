"""Conduit's tables: members (Plait users with a bio and an avatar), follows, articles, tags, favorites, comments.

Each class is an ordinary :class:`plait.db.Model`; ``plait db makemigrations`` wrote the migration in
``migrations/versions`` from them, and the API's request bodies derive from them (see ``api/schemas.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait.auth import User
from plait.db import IntPK, Model, Timestamps
from plait.db.models import utcnow

__all__ = ["Article", "ArticleTag", "Comment", "Favorite", "Follow", "Member", "Tag"]


class Member(User):
    """A Conduit user: Plait's ``auth_user`` row plus a ``member`` row with the profile (joined inheritance)."""

    __tablename__ = "member"
    id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.username


class Follow(Model, IntPK):
    """``follower`` follows ``followed``: one row per pair (an ``id`` too, so the admin can name a row)."""

    __tablename__ = "follow"
    __table_args__ = (UniqueConstraint("follower_id", "followed_id"),)
    follower_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    followed_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    follower: Mapped[Member] = relationship(Member, foreign_keys=[follower_id], lazy="raise_on_sql")
    followed: Mapped[Member] = relationship(Member, foreign_keys=[followed_id], lazy="raise_on_sql")


class Tag(Model, IntPK):
    """A tag name, shared by every article that uses it."""

    __tablename__ = "tag"
    name: Mapped[str] = mapped_column(String(64), unique=True)

    def __str__(self) -> str:
        return self.name


class Article(Model, IntPK, Timestamps):
    """An article; ``slug`` is made from the title and kept unique (``how-to-train-your-dragon-2``)."""

    __tablename__ = "article"
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    author: Mapped[Member] = relationship(Member, lazy="raise_on_sql")

    def __str__(self) -> str:
        return self.title


class ArticleTag(Model, IntPK):
    """A tag on an article, at its ``position`` in the article's tag list (the order the author gave)."""

    __tablename__ = "article_tag"
    __table_args__ = (UniqueConstraint("article_id", "tag_id"),)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    article: Mapped[Article] = relationship(Article, lazy="raise_on_sql")
    tag: Mapped[Tag] = relationship(Tag, lazy="raise_on_sql")


class Favorite(Model, IntPK):
    """``member`` favorited ``article`` (once: the pair is unique)."""

    __tablename__ = "favorite"
    __table_args__ = (UniqueConstraint("member_id", "article_id"),)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    member: Mapped[Member] = relationship(Member, lazy="raise_on_sql")
    article: Mapped[Article] = relationship(Article, lazy="raise_on_sql")


class Comment(Model, IntPK, Timestamps):
    """A comment on an article."""

    __tablename__ = "comment"
    body: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    article: Mapped[Article] = relationship(Article, lazy="raise_on_sql")
    author: Mapped[Member] = relationship(Member, lazy="raise_on_sql")

    def __str__(self) -> str:
        return f"Comment {self.id}"

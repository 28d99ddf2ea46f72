"""The models the admin tests register: authors, tags, articles (FK, M2M, enum, JSON, dates) and comments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait.db import Model
from plait.db.models import utcnow


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Author(Model):
    __tablename__ = "adm_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(200), default=None)

    def __str__(self) -> str:
        return self.name


class Tag(Model):
    __tablename__ = "adm_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # filled in by the model when left empty


article_tags = Table(
    "adm_article_tags",
    Model.metadata,
    Column("article_id", Integer, ForeignKey("adm_article.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("adm_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Article(Model):
    __tablename__ = "adm_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("adm_author.id"))
    author: Mapped[Author] = relationship(Author, lazy="raise_on_sql")
    tags: Mapped[list[Tag]] = relationship(Tag, secondary=article_tags, lazy="raise_on_sql")
    comments: Mapped[list[Comment]] = relationship(
        lambda: Comment,
        back_populates="article",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.title


class Comment(Model):
    __tablename__ = "adm_comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("adm_article.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    article: Mapped[Article] = relationship(Article, back_populates="comments", lazy="raise_on_sql")


TABLES = ["adm_author", "adm_tag", "adm_article", "adm_article_tags", "adm_comment"]

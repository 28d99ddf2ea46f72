"""The shapes the RealWorld spec gives its resources, as msgspec Structs (they are also the OpenAPI schemas).

Python names are snake_case; ``rename="camel"`` spells them ``tagList``, ``createdAt``... on the wire,
so the code stays idiomatic and the JSON matches the spec. These are computed views (``following``,
``favorited`` and ``favoritesCount`` depend on the viewer and on other tables), which is why they are
written out here rather than derived from a model; the request bodies are derived (``api/schemas.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["Article", "ArticlePreview", "Comment", "Profile", "Timestamp", "User"]

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
"""An aware instant, ``2026-01-31T12:00:00.123456Z`` (``format: date-time`` in the document)."""


class User(msgspec.Struct, kw_only=True):
    """The signed-in member, with the token to send as ``Authorization: Token <token>``."""

    email: str
    token: str
    username: str
    bio: str
    image: str


class Profile(msgspec.Struct, kw_only=True):
    """A member as the viewer sees them: ``following`` is true when the viewer follows them."""

    username: str
    bio: str
    image: str
    following: bool


class ArticlePreview(msgspec.Struct, kw_only=True, rename="camel"):
    """An article in a list: everything but the body."""

    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    favorited: bool
    favorites_count: int
    author: Profile


class Article(ArticlePreview, kw_only=True, rename="camel"):
    """An article with its (markdown) body."""

    body: str

    def preview(self) -> ArticlePreview:
        """The same article without its body (lists leave it out)."""
        fields = {name: getattr(self, name) for name in ArticlePreview.__struct_fields__}
        return ArticlePreview(**fields)


class Comment(msgspec.Struct, kw_only=True, rename="camel"):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    body: str
    author: Profile

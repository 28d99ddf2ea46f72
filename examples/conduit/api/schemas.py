"""The API's request and response bodies: the spec's ``{"user": {...}}`` envelopes around derived schemas.

RealWorld wraps every body in a one-key envelope. Plait's way to match that is a small Struct per
envelope around the real payload, so handlers still take and return typed values and the OpenAPI
document shows both levels. The payloads that map onto columns are derived from the models with
:func:`plait.db.schemas` (their length limits come from the columns); the viewer-dependent views
(``following``, ``favorited``...) live in :mod:`conduit.shapes`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from conduit import shapes
from conduit.models import Article, Comment, Member
from plait.db import schemas

# Derived at import time, so to mypy they are plain ``Any`` bases: the subclasses below are the names
# handlers and the OpenAPI document use (the spec's own: NewArticle, UpdateUser...).
_MemberUpdate: Any = schemas(Member, include=("username", "email", "bio", "image")).update
_ArticleCreate: Any = schemas(Article, include=("title", "description", "body")).create
_ArticleUpdate: Any = schemas(Article, include=("title", "description", "body")).update
_CommentCreate: Any = schemas(Comment, include=("body",)).create


Password = Annotated[str, msgspec.Meta(extra_json_schema={"format": "password"})]
"""A password: ``format: password`` in the document, so the docs page masks what is typed."""


class LoginUser(msgspec.Struct, kw_only=True):
    email: str
    password: Password


class NewUser(msgspec.Struct, kw_only=True):
    username: str
    email: str
    password: Password


class UpdateUser(_MemberUpdate, kw_only=True):  # type: ignore[misc, call-arg]
    """Any of username, email, bio and image (derived from ``Member``), and a new password.

    ``image`` may also be ``null`` (some front ends send that for "no picture"): it clears the image.
    """

    image: str | msgspec.UnsetType | None = msgspec.UNSET
    password: str | msgspec.UnsetType = msgspec.UNSET


class NewArticle(_ArticleCreate, kw_only=True, rename="camel"):  # type: ignore[misc, call-arg]
    """Title, description and body (derived from ``Article``), and the tags, in order."""

    tag_list: list[str] = []


class UpdateArticle(_ArticleUpdate):  # type: ignore[misc]
    """Any of title, description and body (derived from ``Article``); the spec has no tags here."""


class NewComment(_CommentCreate):  # type: ignore[misc]
    """The comment's body (derived from ``Comment``)."""


class LoginUserRequest(msgspec.Struct):
    user: LoginUser


class NewUserRequest(msgspec.Struct):
    user: NewUser


class UpdateUserRequest(msgspec.Struct):
    user: UpdateUser


class NewArticleRequest(msgspec.Struct):
    article: NewArticle


class UpdateArticleRequest(msgspec.Struct):
    article: UpdateArticle


class NewCommentRequest(msgspec.Struct):
    comment: NewComment


class UserResponse(msgspec.Struct):
    user: shapes.User


class ProfileResponse(msgspec.Struct):
    profile: shapes.Profile


class SingleArticleResponse(msgspec.Struct):
    article: shapes.Article


class MultipleArticlesResponse(msgspec.Struct, rename="camel"):
    articles: list[shapes.ArticlePreview]
    articles_count: int


class SingleCommentResponse(msgspec.Struct):
    comment: shapes.Comment


class MultipleCommentsResponse(msgspec.Struct):
    comments: list[shapes.Comment]


class TagsResponse(msgspec.Struct):
    tags: list[str]


class ErrorBody(msgspec.Struct):
    body: list[str]


class GenericErrorModel(msgspec.Struct):
    """What every API error answers: ``{"errors": {"body": ["title can't be blank"]}}``."""

    errors: ErrorBody

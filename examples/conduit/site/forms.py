"""The site's forms, declared once as Structs: Plait draws, parses and checks them (``plait.forms``)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from plait.forms import Field, Form

__all__ = ["ArticleForm", "CommentForm", "LoginForm", "RegisterForm", "SettingsForm"]


def _field(widget: str, placeholder: str, label: str | None = None, **attrs: object) -> Field:
    return Field(widget=widget, label=label, attrs={"placeholder": placeholder, **attrs})


Username = Annotated[str, Meta(min_length=1, max_length=150), _field("text", "Username", autocomplete="username")]
EmailAddress = Annotated[str, Meta(max_length=254), _field("email", "Email", autocomplete="email")]


class LoginForm(Form):
    email: EmailAddress
    password: Annotated[str, _field("password", "Password", autocomplete="current-password")]


class RegisterForm(Form):
    username: Username
    email: EmailAddress
    password: Annotated[str, _field("password", "Password", autocomplete="new-password")]


class SettingsForm(Form):
    image: Annotated[str, Meta(max_length=500), _field("url", "URL of profile picture", "Picture")] = ""
    username: Username
    bio: Annotated[str, _field("textarea", "Short bio about you", "Bio", rows=6)] = ""
    email: EmailAddress
    password: Annotated[str, _field("password", "New Password", "New password", autocomplete="new-password")] = ""


class ArticleForm(Form):
    title: Annotated[str, Meta(min_length=1, max_length=200), _field("text", "Article Title", "Title")]
    description: Annotated[
        str, Meta(min_length=1, max_length=500), _field("text", "What's this article about?", "Description")
    ]
    body: Annotated[str, Meta(min_length=1), _field("textarea", "Write your article (in markdown)", "Body", rows=10)]
    tags: Annotated[str, _field("text", "Enter tags", "Tags", autocomplete="off")] = ""


class CommentForm(Form):
    body: Annotated[str, Meta(min_length=1), _field("textarea", "Write a comment...", "Comment", rows=3)]

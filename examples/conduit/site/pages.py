"""The server-rendered site: the pages of RealWorld's front end, on the same models and services as the API.

Pages are Jinja2 templates (``templates/``) rendered with :func:`plait.templates.render`; input comes
through Plait forms (``Submitted[...]``: a blank form on GET, checked values on POST, never a 422
JSON answer); the member signs in with a session (``plait.auth.login``) and every POST carries the
CSRF token (``plait.csrf`` checks it before a handler runs). Buttons that change something
(favorite, follow, delete) are small POST forms, never links, so a GET can never change data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession

from conduit import accounts, services
from conduit.accounts import Viewer
from conduit.models import Member
from conduit.services import ArticleFilter
from conduit.site.forms import ArticleForm, CommentForm, LoginForm, RegisterForm, SettingsForm
from plait.auth import Auth
from plait.auth.login import login, logout
from plait.di import Depends
from plait.exceptions import HTTPException, RequestValidationError
from plait.forms import BoundForm, Form, Submitted
from plait.redirects import redirect, safe_next
from plait.requests import Request
from plait.responses import Response
from plait.routing import Router
from plait.templates import render

__all__ = ["PAGE_SIZE", "site_router"]

PAGE_SIZE = 10
Page = Annotated[int, Meta(ge=1)]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What the top bar shows of the member: copied, because an error rolls the request's session back
    (which expires the member's attributes) before the page is drawn."""

    username: str
    image: str


SIGNED_IN = "conduit.signed_in"


async def remember_member(request: Request, viewer: Viewer) -> None:
    """Run before every page (a router dependency): note who is signed in, for :func:`error_page`."""
    if viewer is not None:
        request.scope[SIGNED_IN] = SignedIn(viewer.username, viewer.image)


async def error_page(request: Request, exc: HTTPException) -> Response:
    """Errors on the site's pages are pages too (the API keeps its JSON): "404 — article 'x' not found"."""
    shown = request.scope.get(SIGNED_IN)
    context = {"status": exc.status_code, "title": exc.title, "detail": exc.detail, "current_user": shown}
    return render("error.html", context, status_code=exc.status_code, headers=exc.headers)


site = Router(dependencies=[Depends(remember_member)], exception_handlers={HTTPException: error_page})


class Back(Form):
    """The hidden ``next`` field of the small action forms: where to go afterwards (checked by safe_next)."""

    next: str = "/"


def form_errors(form: BoundForm[Any], exc: HTTPException) -> None:
    """Put an account error under its field (``("body", "user", "email")``), or above the form."""
    if isinstance(exc, RequestValidationError) and exc.details:
        for detail in exc.details:
            field = str(detail.loc[-1]) if detail.loc else None
            form.add_error(field if field in form.values else None, detail.msg)
    else:
        form.add_error(None, exc.detail)


def sign_in_first(request: Request) -> Response:
    """Anonymous visitors are sent to the sign-in page, and come back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={here}" if request.method == "GET" else "/login")


async def _listing(db: AsyncSession, viewer: Member | None, where: ArticleFilter, page: int) -> dict[str, Any]:
    articles, total = await services.list_articles(db, viewer, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return {"articles": articles, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)), "total": total}


@site.get("/", name="home", include_in_schema=False)
async def home(viewer: Viewer, db: AsyncSession, tab: str | None = None, tag: str | None = None, page: Page = 1) -> Any:
    """Your Feed (signed in), Global Feed, or the articles of one tag; popular tags on the side."""
    if tag:
        tab, where = "tag", ArticleFilter(tag=tag)
    elif viewer is not None and tab != "global":
        tab, where = "feed", ArticleFilter(feed_of=viewer)
    else:
        tab, where = "global", ArticleFilter()
    context = await _listing(db, viewer, where, page)
    context |= {"tab": tab, "tag": tag, "tags": await services.popular_tags(db, 20), "me": viewer}
    return render("home.html", context)


# -- accounts ------------------------------------------------------------------------------------


@site.route("/login", methods=["GET", "POST"], name="login", include_in_schema=False)
async def login_page(
    form: Submitted[LoginForm], request: Request, auth: Auth, db: AsyncSession, next: str | None = None
) -> Any:
    """Sign in with an email and a password (the session remembers the member)."""
    if form.is_valid:
        try:
            member = await accounts.sign_in(auth, db, request, email=form.data.email, password=form.data.password)
        except HTTPException as exc:
            form_errors(form, exc)
        else:
            await login(request, member, db)
            return form.redirect("/", next_url=next)
    return render("auth.html", {"form": form, "mode": "login", "next": next}, status_code=form.status_code)


@site.route("/register", methods=["GET", "POST"], name="register", include_in_schema=False)
async def register_page(form: Submitted[RegisterForm], request: Request, auth: Auth, db: AsyncSession) -> Any:
    """Sign up, and be signed in at once."""
    if form.is_valid:
        data = form.data
        try:
            member = await accounts.sign_up(auth, db, username=data.username, email=data.email, password=data.password)
        except HTTPException as exc:
            form_errors(form, exc)
        else:
            await login(request, member, db)
            return form.redirect("/", flash=f"Welcome to Conduit, {member.username}!")
    return render("auth.html", {"form": form, "mode": "register"}, status_code=form.status_code)


@site.post("/logout", name="logout", include_in_schema=False)
async def logout_page(request: Request) -> Response:
    """Sign out: the session is emptied and gets a new id."""
    await logout(request)
    return redirect("/")


@site.route("/settings", methods=["GET", "POST"], name="settings", include_in_schema=False)
async def settings_page(
    form: Submitted[SettingsForm], viewer: Viewer, request: Request, auth: Auth, db: AsyncSession
) -> Any:
    """Picture, username, bio, email and a new password (left empty: unchanged)."""
    if viewer is None:
        return sign_in_first(request)
    if form.is_valid:
        data = form.data
        fields = {"image": data.image, "username": data.username, "bio": data.bio, "email": data.email}
        try:
            changed = await accounts.update_account(auth, db, viewer, **fields, password=data.password or None)
        except HTTPException as exc:
            form_errors(form, exc)
        else:
            if changed:  # a new password logs out other sessions; this one logs in again with it
                await login(request, viewer, db)
            return form.redirect(f"/profile/{viewer.username}", flash="Your settings are saved.")
    form.fill({"image": viewer.image, "username": viewer.username, "bio": viewer.bio, "email": viewer.email})
    return render("settings.html", {"form": form, "me": viewer}, status_code=form.status_code)


# -- articles ------------------------------------------------------------------------------------


def split_tags(text: str) -> list[str]:
    """``"dragons, training"`` -> ``["dragons", "training"]`` (the editor sends one comma-separated field)."""
    return services.clean_tags(text.split(","))


async def _editor(form: BoundForm[ArticleForm], viewer: Member, db: AsyncSession, slug: str | None) -> Response | None:
    """Create or change the article; the redirect to it when the form was valid, else None (draw the form)."""
    article = await services.article_by_slug(db, slug) if slug is not None else None
    if article is not None:
        services.check_author(article, viewer)
    if form.is_valid:
        data = form.data
        fields = {"title": data.title, "description": data.description, "body": data.body}
        if article is None:
            article = await services.create_article(db, viewer, **fields, tags=split_tags(data.tags))
        else:
            await services.update_article(db, article, **fields, tags=split_tags(data.tags))
        return form.redirect(f"/article/{article.slug}")
    if article is not None:
        view = await services.article_view(db, article, viewer)
        form.fill({**fields_of(view), "tags": ", ".join(view.tag_list)})
    return None


def fields_of(view: Any) -> dict[str, str]:
    return {"title": view.title, "description": view.description, "body": view.body}


@site.route("/editor", methods=["GET", "POST"], name="editor", include_in_schema=False)
async def new_article(form: Submitted[ArticleForm], viewer: Viewer, request: Request, db: AsyncSession) -> Any:
    """Write an article."""
    if viewer is None:
        return sign_in_first(request)
    done = await _editor(form, viewer, db, None)
    return done or render("editor.html", {"form": form, "me": viewer}, status_code=form.status_code)


@site.route("/editor/{slug}", methods=["GET", "POST"], name="edit_article", include_in_schema=False)
async def edit_article(
    slug: str, form: Submitted[ArticleForm], viewer: Viewer, request: Request, db: AsyncSession
) -> Any:
    """Change an article (its author only: 403 for anyone else)."""
    if viewer is None:
        return sign_in_first(request)
    done = await _editor(form, viewer, db, slug)
    context = {"form": form, "me": viewer, "slug": slug}
    return done or render("editor.html", context, status_code=form.status_code)


async def _article_page(
    db: AsyncSession, slug: str, viewer: Member | None, form: BoundForm[CommentForm], status_code: int = 200
) -> Any:
    article = await services.article_by_slug(db, slug)
    view = await services.article_view(db, article, viewer)
    comments = await services.comment_views(db, article, viewer)
    context = {"article": view, "comments": comments, "form": form, "me": viewer}
    return render("article.html", context, status_code=status_code)


@site.get("/article/{slug}", name="article", include_in_schema=False)
async def article_page(slug: str, viewer: Viewer, request: Request, db: AsyncSession) -> Any:
    """An article, its body rendered from markdown, and its comments."""
    return await _article_page(db, slug, viewer, BoundForm(CommentForm, request))


@site.post("/article/{slug}/comments", name="add_comment", include_in_schema=False)
async def add_comment(
    slug: str, form: Submitted[CommentForm], viewer: Viewer, request: Request, db: AsyncSession
) -> Any:
    """Post a comment, then see it under the article."""
    if viewer is None:
        return sign_in_first(request)
    if form.is_valid:
        await services.add_comment(db, viewer, slug, form.data.body)
        return form.redirect(f"/article/{slug}#comments")
    return await _article_page(db, slug, viewer, form, status_code=form.status_code)


@site.post("/article/{slug}/comments/{id}/delete", name="delete_comment", include_in_schema=False)
async def delete_comment(slug: str, id: int, viewer: Viewer, request: Request, db: AsyncSession) -> Response:
    if viewer is None:
        return sign_in_first(request)
    await services.delete_comment(db, viewer, slug, id)
    return redirect(f"/article/{slug}#comments")


@site.post("/article/{slug}/delete", name="delete_article", include_in_schema=False)
async def delete_article(slug: str, viewer: Viewer, request: Request, db: AsyncSession) -> Response:
    if viewer is None:
        return sign_in_first(request)
    article = await services.article_by_slug(db, slug)
    services.check_author(article, viewer)
    await db.delete(article)
    return redirect("/")


def _back(request: Request, form: BoundForm[Back], default: str) -> Response:
    """Back to the page the button was on (only a path of this site), else ``default``."""
    return redirect(safe_next(request, form.data.next if form.is_valid else None, default))


@site.post("/article/{slug}/favorite", name="favorite", include_in_schema=False)
async def favorite(slug: str, form: Submitted[Back], viewer: Viewer, request: Request, db: AsyncSession) -> Response:
    if viewer is None:
        return sign_in_first(request)
    await services.favorite(db, viewer, slug)
    return _back(request, form, f"/article/{slug}")


@site.post("/article/{slug}/unfavorite", name="unfavorite", include_in_schema=False)
async def unfavorite(slug: str, form: Submitted[Back], viewer: Viewer, request: Request, db: AsyncSession) -> Response:
    if viewer is None:
        return sign_in_first(request)
    await services.unfavorite(db, viewer, slug)
    return _back(request, form, f"/article/{slug}")


# -- profiles ------------------------------------------------------------------------------------


@site.post("/profile/{username}/follow", name="follow", include_in_schema=False)
async def follow(username: str, form: Submitted[Back], viewer: Viewer, request: Request, db: AsyncSession) -> Response:
    if viewer is None:
        return sign_in_first(request)
    await services.follow(db, viewer, username)
    return _back(request, form, f"/profile/{username}")


@site.post("/profile/{username}/unfollow", name="unfollow", include_in_schema=False)
async def unfollow(
    username: str, form: Submitted[Back], viewer: Viewer, request: Request, db: AsyncSession
) -> Response:
    if viewer is None:
        return sign_in_first(request)
    await services.unfollow(db, viewer, username)
    return _back(request, form, f"/profile/{username}")


async def _profile(db: AsyncSession, username: str, viewer: Member | None, tab: str, page: int) -> Any:
    member = await services.member_named(db, username)
    where = ArticleFilter(favorited=username) if tab == "favorites" else ArticleFilter(author=username)
    context = await _listing(db, viewer, where, page)
    context |= {"profile": await services.profile(db, member, viewer), "tab": tab, "me": viewer}
    return render("profile.html", context)


@site.get("/profile/{username}", name="profile", include_in_schema=False)
async def profile(username: str, viewer: Viewer, db: AsyncSession, page: Page = 1) -> Any:
    """A member, and the articles they wrote."""
    return await _profile(db, username, viewer, "articles", page)


@site.get("/profile/{username}/favorites", name="profile_favorites", include_in_schema=False)
async def profile_favorites(username: str, viewer: Viewer, db: AsyncSession, page: Page = 1) -> Any:
    """A member, and the articles they favorited."""
    return await _profile(db, username, viewer, "favorites", page)


def site_router() -> Router:
    return site

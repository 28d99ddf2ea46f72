"""Notebook: a small server-rendered Plait site. Notes to list, read, write, edit and delete, behind a login.

Run it from this folder::

    export PLAIT_SECRET_KEY=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
    plait db migrate          # the auth tables, then the notes table (migrations/versions)
    plait createsuperuser     # someone to log in as
    plait run                 # http://127.0.0.1:8000

SQLite (``db.sqlite3`` here) unless ``PLAIT_DATABASE_URL`` says otherwise.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait import Depends, Plait, Response
from plait.auth import Auth, CurrentUser, User, optional_user
from plait.auth.login import login, logout
from plait.csrf import CSRF
from plait.db import Database, IntPK, Model, Timestamps
from plait.exceptions import HTTPException
from plait.forms import Email, Form, Password, Submitted, Textarea
from plait.redirects import redirect
from plait.requests import Request
from plait.sessions import Session, Sessions, flash
from plait.templates import Templates, render


class Note(Model, IntPK, Timestamps):
    __tablename__ = "note"
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    author: Mapped[User] = relationship(lazy="joined")


class NoteForm(Form):
    title: Annotated[str, Meta(max_length=120)]
    body: Annotated[str, Textarea]


class LoginForm(Form):
    email: Annotated[str, Email]
    password: Annotated[str, Password, Meta(max_length=1024)]  # at most 4096 bytes: the auth battery's cap


app = Plait(
    title="Notebook",
    extensions=[Database(), Sessions(), CSRF(), Auth(), Templates()],
    dependencies=[Depends(optional_user)],  # every page knows who is logged in (current_user in templates)
)


@app.get("/", name="notes")
async def notes(db: AsyncSession) -> Response:
    found = await db.scalars(select(Note).order_by(Note.created_at.desc(), Note.id.desc()))
    return render("notes/list.html", {"notes": found.all()})


@app.get("/notes/{id:int}", name="note")
async def note(id: int, db: AsyncSession) -> Response:
    return render("notes/detail.html", {"note": await get_note(db, id)})


@app.route("/notes/new", methods=["GET", "POST"], name="new_note")
async def new_note(form: Submitted[NoteForm], db: AsyncSession, user: CurrentUser) -> Response:
    if form.is_valid:
        created = Note(title=form.data.title, body=form.data.body, author_id=user.id)
        db.add(created)
        await db.flush()  # gives the note its id
        return form.redirect(app.url_for("note", id=created.id), flash="Note saved.")
    return render("notes/form.html", {"form": form}, status_code=form.status_code)


@app.route("/notes/{id:int}/edit", methods=["GET", "POST"], name="edit_note")
async def edit_note(id: int, form: Submitted[NoteForm], db: AsyncSession, user: CurrentUser) -> Response:
    found = await get_note(db, id, author=user)
    if form.is_valid:
        found.title, found.body = form.data.title, form.data.body
        return form.redirect(app.url_for("note", id=id), flash="Note updated.")
    return render("notes/form.html", {"form": form.fill(found), "note": found}, status_code=form.status_code)


@app.route("/notes/{id:int}/delete", methods=["GET", "POST"], name="delete_note")
async def delete_note(id: int, request: Request, db: AsyncSession, user: CurrentUser, session: Session) -> Response:
    found = await get_note(db, id, author=user)
    if request.method == "GET":
        return render("notes/delete.html", {"note": found})
    await db.delete(found)
    flash(session, f"Deleted “{found.title}”.")
    return redirect(app.url_for("notes"))


@app.route("/login", methods=["GET", "POST"], name="login")
async def login_page(request: Request, form: Submitted[LoginForm], db: AsyncSession, auth: Auth) -> Response:
    if form.is_valid:
        user = await auth.authenticate(db, form.data.email, form.data.password)
        if user is not None:
            await login(request, user, db)
            # next= only leads back to this site: //evil.example and the like fall back to the notes.
            next_url = request.query_params.get("next")
            return form.redirect(app.url_for("notes"), flash=f"Welcome, {user.username}.", next_url=next_url)
        form.add_error(None, "Those details do not match an account. Check the email and password.")
    return render("login.html", {"form": form}, status_code=form.status_code)


@app.post("/logout", name="logout")
async def logout_page(request: Request, session: Session) -> Response:
    await logout(request)  # a new, empty session
    flash(session, "You are logged out.")
    return redirect(app.url_for("notes"))


@app.exception_handler(401)
async def log_in_first(request: Request, exc: HTTPException) -> Response:
    """A page that needs a user sends the visitor to the login page, and back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(app.url_for("login", next=here))


@app.exception_handler(403)
@app.exception_handler(404)
async def error_page(request: Request, exc: HTTPException) -> Response:
    return render("error.html", {"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)


async def get_note(db: AsyncSession, id: int, *, author: User | None = None) -> Note:
    """The note, else a 404; with ``author``, only when they wrote it (403 for anyone else)."""
    found = await db.get(Note, id)
    if found is None:
        raise HTTPException(404, "There is no such note; it may have been deleted.")
    if author is not None and found.author_id != author.id:
        raise HTTPException(403, "Only the author of a note can change or delete it.")
    return found

"""Sessions, flash messages and CSRF through real templates (plait.templates, Jinja2 with autoescape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait import Plait
from plait.csrf import CSRF
from plait.sessions import Session, Sessions, flash
from plait.settings import Settings
from plait.templates import Templates, render
from plait.testing import TestClient
from tests.test_sessions.helpers import SECRET, MemoryStore

PAGE = (
    "{% for category, message in get_flashed_messages(with_categories=true) %}"
    "<p class={{ category }}>{{ message }}</p>{% endfor %}"
    "<b>{{ session.get('user', 'anonymous') }}</b>"
    '<form method="post" action="/save">{{ csrf_input }}</form>'
)


@pytest.mark.parametrize("store", [None, MemoryStore()], ids=["cookie", "server"])
def test_a_page_shows_flashes_once_the_user_and_a_working_csrf_field(tmp_path: Path, store: MemoryStore | None) -> None:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    app = Plait(
        settings=Settings(secret_key=SECRET),
        extensions=[Sessions(store), CSRF(), Templates(tmp_path, static=None)],
    )

    @app.get("/")
    def page() -> object:
        return render("page.html")

    @app.post("/save")
    async def save(session: Session) -> str:
        session["user"] = "<ada>"
        flash(session, "Saved <now>", "success")
        return "saved"

    with TestClient(app) as client:
        first = client.get("/").text
        assert "<b>anonymous</b>" in first
        token = first.split('value="')[1].split('"')[0]
        assert client.post("/save", data={"csrf_token": token}).text == "saved"
        shown = client.get("/")
        assert "<p class=success>Saved &lt;now&gt;</p>" in shown.text  # escaped: a message is text, not markup
        assert "<b>&lt;ada&gt;</b>" in shown.text
        assert shown.headers["vary"] == "Cookie"
        assert "<p" not in client.get("/").text  # shown once

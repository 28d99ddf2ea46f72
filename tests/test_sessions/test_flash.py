"""Flash messages: kept in the session until shown once, through handlers and templates."""

from __future__ import annotations

from typing import Any

from plait.sessions import Session, flash, get_flashed_messages
from plait.testing import TestClient
from tests.test_sessions.helpers import MemoryStore, session_app


def test_messages_are_shown_once_oldest_first() -> None:
    session: dict[str, Any] = {}
    flash(session, "one")
    flash(session, "two", "error")
    assert get_flashed_messages(session) == ["one", "two"]
    assert get_flashed_messages(session) == []
    assert session == {}


def test_a_category_filter_pops_only_those_messages() -> None:
    session: dict[str, Any] = {}
    flash(session, "saved")
    flash(session, "failed", "error")
    assert get_flashed_messages(session, category_filter=["error"]) == ["failed"]
    assert get_flashed_messages(session, with_categories=True) == [("info", "saved")]
    assert get_flashed_messages(session, with_categories=True, category_filter=["info"]) == []


def test_reading_no_messages_does_not_change_the_session() -> None:
    store = MemoryStore()
    app = session_app(store)

    @app.get("/messages")
    async def messages(session: Session) -> list[str]:
        return get_flashed_messages(session)

    with TestClient(app) as client:
        client.post("/set/a", params={"value": "1"})
        response = client.get("/messages")
    assert response.json() == []
    assert "set-cookie" not in response.headers


def test_a_message_survives_a_redirect_and_is_then_gone() -> None:
    app = session_app()

    @app.post("/save")
    async def save(session: Session) -> str:
        flash(session, "Saved.", "success")
        return "redirect me"

    @app.get("/next")
    async def next_page(session: Session) -> list[tuple[str, str]]:
        return get_flashed_messages(session, with_categories=True)

    with TestClient(app) as client:
        client.post("/save")
        assert client.get("/next").json() == [["success", "Saved."]]
        assert client.get("/next").json() == []

"""Every page of the Notebook example, through the TestClient: what a visitor and a logged-in author see."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from plait.testing import TestClient
from tests.test_example_site.conftest import add_note, csrf_token, log_in


def follow(client: TestClient, response: Any) -> Any:
    """The page a browser lands on after a 303."""
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"])


def flashes(page: Any) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', page.text)]


def test_an_empty_notebook_invites_a_visitor_to_log_in(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Notes · Notebook</title>" in page.text
    assert "No notes yet." in page.text
    assert 'href="/login"' in page.text
    assert "New note" not in page.text


def test_the_stylesheet_is_served_cache_busted(client: TestClient) -> None:
    link = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', client.get("/").text)
    assert link is not None
    css = client.get(link.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_logging_in_greets_the_user_once(client: TestClient, users: dict[str, int]) -> None:
    home = follow(client, log_in(client, "ada"))
    assert flashes(home) == ["Welcome, ada."]
    assert '<span class="who">ada</span>' in home.text
    assert 'action="/logout"' in home.text
    assert flashes(client.get("/")) == []  # a flash message is shown once


def test_a_wrong_password_redraws_the_form_with_a_message(client: TestClient, users: dict[str, int]) -> None:
    data = {"email": "ada@example.com", "password": "not it", "csrf_token": csrf_token(client, "/login")}
    page = client.post("/login", data=data)
    assert page.status_code == 422
    assert "Those details do not match an account." in page.text
    assert 'value="ada@example.com"' in page.text  # kept for the next attempt; the password is not
    assert "not it" not in page.text
    assert client.get("/notes/new").status_code == 303  # still anonymous


def test_login_starts_a_new_session(client: TestClient, users: dict[str, int]) -> None:
    csrf_token(client, "/login")
    before = client.cookies.get("plait_session")
    log_in(client, "ada")
    # A session cookie planted on the visitor before login (session fixation) is worth nothing after it.
    assert client.cookies.get("plait_session") not in (None, before)


def test_pages_that_need_a_user_send_visitors_to_log_in_and_back(client: TestClient, users: dict[str, int]) -> None:
    response = client.get("/notes/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fnotes%2Fnew"
    with_query = client.get("/notes/new?draft=1")
    assert with_query.headers["location"] == "/login?next=%2Fnotes%2Fnew%3Fdraft%3D1"
    arrived = log_in(client, "ada", next_url="/notes/new")
    assert arrived.headers["location"] == "/notes/new"
    assert follow(client, arrived).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "/\t/evil.example",
        "",
    ],
)
def test_next_never_leads_off_the_site(client: TestClient, users: dict[str, int], target: str) -> None:
    from urllib.parse import quote

    response = log_in(client, "ada", next_url=quote(target, safe=""))
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # the safe default: the notes


def test_next_keeps_a_path_with_its_query(client: TestClient, users: dict[str, int]) -> None:
    response = log_in(client, "ada", next_url="%2Fnotes%2Fnew%3Fdraft%3D1")
    assert response.headers["location"] == "/notes/new?draft=1"


def test_writing_a_note_with_errors_then_fixing_them(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    token = csrf_token(client, "/notes/new")
    page = client.post("/notes/new", data={"title": "   ", "body": "Keep me", "csrf_token": token})
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text
    assert '<div id="id_title-error" class="errors"><p>This field is required.</p></div>' in page.text
    assert ">\nKeep me</textarea>" in page.text  # what was typed is kept
    too_long = {"title": "x" * 121, "body": "Keep me", "csrf_token": token}
    assert "Use at most 120 characters." in client.post("/notes/new", data=too_long).text
    saved = client.post("/notes/new", data={"title": "Plans", "body": "Keep me", "csrf_token": token})
    assert re.fullmatch(r"/notes/\d+", saved.headers["location"])
    detail = follow(client, saved)
    assert flashes(detail) == ["Note saved."]
    assert "<h1>Plans</h1>" in detail.text
    assert '<div class="body">Keep me</div>' in detail.text


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_the_form_takes_both_encodings(client: TestClient, users: dict[str, int], encoding: str) -> None:
    log_in(client, "ada")
    fields = {"title": "Tea", "body": "Oolong, then green.", "csrf_token": csrf_token(client, "/notes/new")}
    if encoding == "urlencoded":
        response = client.post("/notes/new", data=fields)
    else:
        response = client.post("/notes/new", files={name: (None, value) for name, value in fields.items()})
    assert response.status_code == 303
    assert "Oolong, then green." in follow(client, response).text
    invalid = {**fields, "title": ""}
    if encoding == "urlencoded":
        refused = client.post("/notes/new", data=invalid)
    else:
        refused = client.post("/notes/new", files={name: (None, value) for name, value in invalid.items()})
    assert refused.status_code == 422
    assert "This field is required." in refused.text


def test_the_list_and_the_detail_page(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    first = add_note(client, "First", "One")
    second = add_note(client, "Second", "Two " * 100)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    listing = client.get("/")
    titles = re.findall(r'<h2><a href="/notes/(\d+)">(.*?)</a></h2>', listing.text)
    assert titles == [(str(second), "Second"), (str(first), "First")]  # newest first
    assert "Two Two" in listing.text
    assert "Two " * 100 not in listing.text  # long bodies are shortened in the list
    detail = client.get(f"/notes/{first}")
    assert detail.status_code == 200
    assert "<h1>First</h1>" in detail.text
    assert "ada ·" in detail.text
    assert "/edit" not in detail.text  # only the author is offered edit and delete


def test_a_missing_note_is_a_404_page(client: TestClient) -> None:
    page = client.get("/notes/404")
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text
    assert "There is no such note" in page.text


def test_editing_a_note(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    note = add_note(client, "Draft", "Before")
    form = client.get(f"/notes/{note}/edit")
    assert form.status_code == 200
    assert 'value="Draft"' in form.text  # filled from the note
    token = csrf_token(client, f"/notes/{note}/edit")
    page = client.post(f"/notes/{note}/edit", data={"title": "", "body": "After", "csrf_token": token})
    assert page.status_code == 422
    assert "This field is required." in page.text
    assert ">\nAfter</textarea>" in page.text  # the submitted values win over the note's
    saved = client.post(f"/notes/{note}/edit", data={"title": "Final", "body": "After", "csrf_token": token})
    assert saved.headers["location"] == f"/notes/{note}"
    detail = follow(client, saved)
    assert flashes(detail) == ["Note updated."]
    assert "<h1>Final</h1>" in detail.text


def test_deleting_asks_first(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    note = add_note(client, "Old", "Gone soon")
    confirm = client.get(f"/notes/{note}/delete")
    assert confirm.status_code == 200
    assert "Delete “Old”?" in confirm.text
    assert client.get(f"/notes/{note}").status_code == 200  # asking deleted nothing
    deleted = client.post(f"/notes/{note}/delete", data={"csrf_token": csrf_token(client, f"/notes/{note}/delete")})
    assert deleted.headers["location"] == "/"
    assert flashes(follow(client, deleted)) == ["Deleted “Old”."]
    assert client.get(f"/notes/{note}").status_code == 404


@pytest.mark.parametrize("page", ["edit", "delete"])
def test_only_the_author_changes_a_note(client: TestClient, users: dict[str, int], page: str) -> None:
    log_in(client, "ada")
    note = add_note(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    log_in(client, "grace")
    assert client.get(f"/notes/{note}/{page}").status_code == 403
    token = csrf_token(client, "/notes/new")
    refused = client.post(f"/notes/{note}/{page}", data={"title": "Mine", "body": "Now", "csrf_token": token})
    assert refused.status_code == 403
    assert "Only the author of a note can change or delete it." in refused.text
    assert "<h1>Groceries</h1>" in client.get(f"/notes/{note}").text


def test_logging_out(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    assert client.get("/logout").status_code == 405  # a link (or an <img>) cannot log anyone out
    home = follow(client, client.post("/logout", data={"csrf_token": csrf_token(client, "/")}))
    assert flashes(home) == ["You are logged out."]
    assert 'href="/login"' in home.text
    assert client.get("/notes/new").status_code == 303


def test_a_huge_password_is_a_form_error(client: TestClient, users: dict[str, int]) -> None:
    data = {"email": "ada@example.com", "password": "x" * 5000, "csrf_token": csrf_token(client, "/login")}
    page = client.post("/login", data=data)
    assert page.status_code == 422  # refused by the form, before any hashing
    assert "Use at most 1024 characters." in page.text

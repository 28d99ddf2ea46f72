"""What keeps the Notebook's visitors safe: inert titles, CSRF on every form route, no session for a forger."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plait.testing import TestClient
from tests.test_example_site.conftest import add_note, csrf_token, log_in

SCRIPT = '<script>alert("pwned")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"


def test_a_script_in_a_note_renders_inert_on_every_page(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    note = add_note(client, SCRIPT, f"{SCRIPT}\n<img src=x onerror=alert(1)>")
    for path in ("/", f"/notes/{note}", f"/notes/{note}/edit", f"/notes/{note}/delete"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script" not in page.text, path  # the page itself has no script at all
        assert "<img" not in page.text, path
        assert ESCAPED in page.text or "&lt;script&gt;alert(&#34;pwned" in page.text, path
    # The edit form keeps the title inside an attribute value, escaped there too.
    assert 'value="&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"' in client.get(f"/notes/{note}/edit").text


def test_a_script_as_a_username_renders_inert(client: TestClient, users: dict[str, int], database_file: Any) -> None:
    import sqlite3

    with sqlite3.connect(database_file) as connection:
        connection.execute("update auth_user set username = ? where username = 'ada'", (SCRIPT,))
    log_in(client, "ada")
    add_note(client)
    for path in ("/", "/notes/new"):
        text = client.get(path).text
        assert "<script" not in text
        assert ESCAPED in text


def unsafe_form_routes(app: Any) -> list[str]:
    """Every route of the app that takes a POST (or another unsafe method): the app's own table, not a list."""
    unsafe = {"POST", "PUT", "PATCH", "DELETE"}
    return [row.path for row in app.routes_table() if unsafe & set(row.methods)]


def test_the_unsafe_routes_are_the_ones_expected(site: Any) -> None:
    # Guards the test below against passing with nothing to check: a new POST route shows up here.
    assert sorted(unsafe_form_routes(site.app)) == [
        "/login",
        "/logout",
        "/notes/new",
        "/notes/{id:int}/delete",
        "/notes/{id:int}/edit",
    ]


@pytest.mark.parametrize("token", ["missing", "forged", "from before login", "another visitor's"])
def test_every_unsafe_route_refuses_a_post_without_a_valid_token(
    client: TestClient, users: dict[str, int], site: Any, token: str
) -> None:
    stolen = csrf_token(client, "/login")  # valid for this anonymous visitor only: login rotates it
    log_in(client, "ada")
    note = add_note(client)
    if token == "another visitor's":
        mine = dict(client.cookies)
        client.cookies.clear()
        stolen = csrf_token(client, "/login")  # a valid token, but bound to the forger's own session
        client.cookies.clear()
        client.cookies.update(mine)
    for template in unsafe_form_routes(site.app):
        path = re.sub(r"\{[^}]+\}", str(note), template)
        data = {"title": "Forged", "body": "Forged", "email": "ada@example.com", "password": "x"}
        if token == "forged":
            data["csrf_token"] = "A" * 86
        elif token != "missing":
            data["csrf_token"] = stolen
        response = client.post(path, data=data)
        # A page on another site can post this form with the visitor's cookies; without the token
        # from the visitor's own session, nothing happens.
        assert response.status_code == 403, (path, response.status_code)
        assert "Forged" not in response.text
    page = client.get(f"/notes/{note}")
    assert page.status_code == 200  # neither edited nor deleted
    assert "<h1>Groceries</h1>" in page.text
    assert '<span class="who">ada</span>' in page.text  # and not logged out


def test_an_anonymous_form_post_needs_the_token_too(client: TestClient, users: dict[str, int]) -> None:
    # Login CSRF: a forged login would put the visitor in the attacker's account.
    response = client.post("/login", data={"email": "ada@example.com", "password": "x"})
    assert response.status_code == 403


def test_a_post_from_another_origin_is_refused(client: TestClient, users: dict[str, int]) -> None:
    log_in(client, "ada")
    token = csrf_token(client, "/notes/new")
    response = client.post(
        "/notes/new",
        data={"title": "Forged", "body": "Forged", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_the_session_cookie_is_out_of_reach_of_scripts(client: TestClient, users: dict[str, int]) -> None:
    response = log_in(client, "ada")
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "plait_session" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie

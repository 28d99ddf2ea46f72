"""Session login and logout: a new session id, the password fragment, the CSRF secret rotated."""

from __future__ import annotations

from typing import Any

import pytest

from plait import Request
from plait.auth.login import SESSION_HASH_KEY, SESSION_USER_KEY, USER_SCOPE_KEY, login, logout, session_hash
from plait.auth.models import User
from plait.csrf import CSRF, csrf_token
from plait.sessions import Sessions
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import PASSWORD, add_user, make_app

pytestmark = pytest.mark.anyio


def test_the_session_hash_follows_the_password() -> None:
    one, two = User(password="$argon2id$one"), User(password="$argon2id$two")
    assert session_hash(one) == session_hash(User(password="$argon2id$one"))
    assert session_hash(one) != session_hash(two)
    assert len(session_hash(User())) == 32


async def test_login_without_sessions_records_the_user_for_the_request(auth_database_url: str) -> None:
    app = make_app(auth_database_url, router=False)

    @app.post("/in")
    async def sign_in(request: Request) -> dict[str, Any]:
        user = User(id=1, username="x", email="x@example.com", password="")
        await login(request, user)
        seen = request.scope[USER_SCOPE_KEY] is user
        await logout(request)
        return {"seen": seen, "after": request.scope[USER_SCOPE_KEY], "last_login": user.last_login is not None}

    async with AsyncTestClient(app) as client:
        assert (await client.post("/in")).json() == {"seen": True, "after": None, "last_login": True}


async def test_login_cycles_the_session_and_rotates_csrf(auth_database_url: str) -> None:
    app = make_app(auth_database_url, extensions=[Sessions(), CSRF()])

    @app.get("/peek")
    async def peek(request: Request) -> dict[str, Any]:
        session = request.scope["session"]
        await session.load()
        return {
            "user": session.get(SESSION_USER_KEY),
            "hash": session.get(SESSION_HASH_KEY),
            "csrf": csrf_token(request),
        }

    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        before = (await client.get("/peek")).json()
        cookie_before = client.cookies.get("plait_session")
        headers = {"X-CSRF-Token": before["csrf"]}
        logged_in = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}, headers=headers
        )
        after = (await client.get("/peek")).json()
        stale = await client.post("/auth/logout", headers=headers)  # the token from before login is void
        out = await client.post("/auth/logout", headers={"X-CSRF-Token": after["csrf"]})
        gone = (await client.get("/peek")).json()
    assert logged_in.status_code == 200
    assert client.cookies.get("plait_session") != cookie_before
    assert after["user"] == user.id
    assert after["hash"] == session_hash(user)
    assert stale.status_code == 403
    assert out.status_code == 204
    assert gone["user"] is None

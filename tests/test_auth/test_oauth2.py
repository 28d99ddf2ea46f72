"""The OAuth2 token endpoint: password and refresh grants, RFC 6749 error bodies, throttling."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import Auth
from plait.auth.identity import token_codec
from plait.csrf import CSRF
from plait.sessions import Sessions
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, add_user, make_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(tmp_path: Any) -> Plait[Any]:
    settings = msgspec.structs.replace(FAST, throttle_account_limit=3)
    return make_app(f"sqlite:///{tmp_path / 'auth.db'}", auth=Auth(settings=settings))


def password_form(password: str = PASSWORD, username: str = "ada@example.com") -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


async def test_password_grant_gives_working_tokens(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        response = await client.post("/auth/token", data=password_form())
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["username"] == "ada"
        assert me.json()["last_login"] is not None


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (password_form("wrong password"), "invalid_grant"),
        (password_form(username="nobody@example.com"), "invalid_grant"),
        (password_form("x" * 5000), "invalid_request"),
        (password_form(""), "invalid_request"),
        (password_form(username="u" * 5000), "invalid_request"),
        ({"username": "ada@example.com", "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "garbage"}, "invalid_grant"),
    ],
)
async def test_rfc6749_error_bodies(app: Plait[Any], form: dict[str, str], error: str) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        response = await client.post("/auth/token", data=form)
        assert response.status_code == 400
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["error"] == error
        assert response.json()["error_description"]


async def test_a_long_password_is_refused_before_hashing(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        response = await client.post("/auth/token", data=password_form("x" * 4097))
        assert response.json()["error"] == "invalid_request"
        assert "4096 bytes" in response.json()["error_description"]


async def test_refresh_grant(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        pair = (await client.post("/auth/token", data=password_form())).json()
        refreshed = await client.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["access_token"] != pair["access_token"]
        # An access token is not a refresh token.
        wrong = await client.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": pair["access_token"]}
        )
        assert wrong.json()["error"] == "invalid_grant"
        auth = app.extensions["auth"]
        for subject in ("999", "not-a-number"):
            ghost = token_codec(auth).refresh_token(subject)
            gone = await client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": ghost})
            assert gone.json()["error"] == "invalid_grant"
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(auth.user_model, user.id)
            await auth.set_password(stored, "another good password", validate=False)
            await db.commit()
        stale = await client.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        )
        assert "password changed" in stale.json()["error_description"]


async def test_failures_are_throttled(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        for _ in range(3):
            assert (await client.post("/auth/token", data=password_form("bad"))).status_code == 400
        throttled = await client.post("/auth/token", data=password_form())
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1


async def test_username_login_field(tmp_path: Any) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'a.db'}", auth=Auth(settings=FAST, login_field="username"))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        ok = await client.post("/auth/token", data=password_form(username="ada"))
        assert ok.status_code == 200
        wrong = await client.post("/auth/token", data=password_form("nope", username="ada"))
        assert wrong.json()["error_description"] == "Wrong username or password."


async def test_json_refresh_endpoint(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        pair = (await client.post("/auth/token", data=password_form())).json()
        fresh = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
        assert fresh.status_code == 200
        assert fresh.headers["cache-control"] == "no-store"
        assert fresh.json()["token_type"] == "bearer"
        refused = await client.post("/auth/token/refresh", json={"refresh_token": pair["access_token"]})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert "refresh token" in refused.json()["detail"]


async def test_the_token_endpoints_need_no_csrf_token(tmp_path: Any) -> None:
    # Swagger UI posts a form with no CSRF token; the endpoints use no cookie, so CSRF does not apply.
    app = make_app(f"sqlite:///{tmp_path / 'c.db'}", extensions=[Sessions(), CSRF()])
    async with AsyncTestClient(app) as client:
        await add_user(app)
        client.cookies.set("plait_session", "whatever")
        response = await client.post("/auth/token", data=password_form())
        assert response.status_code == 200, response.text
        refresh = {"refresh_token": response.json()["refresh_token"]}
        assert (await client.post("/auth/token/refresh", json=refresh)).status_code == 200
        assert (await client.post("/auth/logout")).status_code == 403  # CSRF is on for the rest

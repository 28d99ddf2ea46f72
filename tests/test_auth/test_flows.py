"""The JSON flows of ``auth_router()``: register, login, logout, me, password change and reset."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import Auth, MemoryMailSender, User
from plait.auth.flows import reset_token, user_for_reset_token
from plait.sessions import DatabaseStore, Session, Sessions
from plait.sessions.stores.database import SessionRecord
from plait.signing import Signer
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, SECRET, add_user, make_app

pytestmark = pytest.mark.anyio


async def _user(app: Plait[Any], email: str = "ada@example.com") -> Any:
    async with AsyncSession(app.extensions["database"].engine) as db:
        return (await db.execute(select(User).where(User.email == email))).scalars().first()


async def test_register_creates_an_active_user_and_answers_the_same_for_a_known_email(
    app: Plait[Any], mailbox: MemoryMailSender
) -> None:
    async with AsyncTestClient(app) as client:
        first = await client.post("/auth/register", json={"email": "Ada@Example.com", "password": PASSWORD})
        again = await client.post("/auth/register", json={"email": "ada@example.com", "password": PASSWORD + "!"})
        user = await _user(app)
    # Same status and body: an attacker cannot tell which addresses have accounts.
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert user is not None
    assert user.username == "ada@example.com"
    assert user.is_active
    assert user.password.startswith("$argon2id$")
    # Only the owner of the address learns that it was registered already.
    assert [m.subject for m in mailbox.outbox] == ["Welcome", "Someone tried to register with your address"]


async def test_register_refuses_weak_and_oversized_passwords_with_422(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        weak = await client.post("/auth/register", json={"email": "ada@example.com", "password": "password1"})
        similar = await client.post("/auth/register", json={"email": "lovelace@example.com", "password": "lovelace12"})
        huge = await client.post("/auth/register", json={"email": "ada@example.com", "password": "x" * 5000})
        bad_email = await client.post("/auth/register", json={"email": "nope", "password": PASSWORD})
        assert await _user(app) is None
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["loc"] == ["body", "password"]
    assert "too common" in weak.json()["errors"][0]["msg"]
    assert "too similar to the" in similar.json()["errors"][0]["msg"]
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["type"] == "password_too_long"
    assert bad_email.status_code == 422


async def test_register_with_a_taken_username_is_a_409(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        taken = await client.post(
            "/auth/register", json={"email": "other@example.com", "username": "ada", "password": PASSWORD}
        )
    assert taken.status_code == 409


async def test_login_gives_the_user_and_tokens_that_open_me(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        response = await client.post("/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})
        body = response.json()
        me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        anonymous = await client.get("/auth/me")
        user = await _user(app)
    assert response.status_code == 200, body
    assert body["user"]["email"] == "ada@example.com"
    assert "password" not in body["user"]
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert anonymous.status_code == 401
    assert user.last_login is not None


async def test_wrong_passwords_unknown_and_inactive_accounts_get_the_same_401(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        await add_user(app, "bob", "bob@example.com", is_active=False)
        answers = [
            await client.post("/auth/login", json={"email": email, "password": password})
            for email, password in (
                ("ada@example.com", "wrong password"),
                ("nobody@example.com", PASSWORD),
                ("bob@example.com", PASSWORD),
            )
        ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1


async def test_login_input_problems_are_422(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        missing = await client.post("/auth/login", json={"username": "ada", "password": PASSWORD})
        huge = await client.post("/auth/login", json={"email": "ada@example.com", "password": "x" * 4097})
        unknown_field = await client.post("/auth/login", json={"email": "a@b.c", "password": "x", "admin": True})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "email"]
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["type"] == "password_too_long"
    assert unknown_field.status_code == 422


async def test_username_login(auth_database_url: str) -> None:
    app = make_app(auth_database_url, auth=Auth(settings=FAST, login_field="username"))
    async with AsyncTestClient(app) as client:
        no_username = await client.post("/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
        created = await client.post(
            "/auth/register", json={"email": "ada@example.com", "username": "ada", "password": PASSWORD}
        )
        good = await client.post("/auth/login", json={"username": "ada", "password": PASSWORD})
        by_email = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert no_username.status_code == 422
    assert created.status_code == 202
    assert good.status_code == 200
    assert good.json()["user"]["username"] == "ada"
    assert by_email.status_code == 422


async def test_failed_logins_are_throttled_per_account_with_retry_after(auth_database_url: str) -> None:
    settings = FAST.__class__(**{**_fields(FAST), "throttle_account_limit": 3, "throttle_ip_limit": 5})
    app = make_app(auth_database_url, auth=Auth(settings=settings))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        wrong = {"email": "ada@example.com", "password": "not it"}
        statuses = [(await client.post("/auth/login", json=wrong)).status_code for _ in range(3)]
        blocked = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        # Another account from the same address still works until the address limit (5 failures).
        other = await client.post("/auth/login", json={"email": "bob@example.com", "password": "x"})
        other2 = await client.post("/auth/login", json={"email": "carol@example.com", "password": "x"})
        by_ip = await client.post("/auth/login", json={"email": "dan@example.com", "password": "x"})
    assert statuses == [401, 401, 401]
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 900
    assert (other.status_code, other2.status_code) == (401, 401)
    assert by_ip.status_code == 429


async def test_a_successful_login_clears_the_account_count(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        for _ in range(9):
            await client.post("/auth/login", json={"email": "ada@example.com", "password": "nope"})
        assert (await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})).is_success
        for _ in range(9):
            assert (
                await client.post("/auth/login", json={"email": "ada@example.com", "password": "no"})
            ).status_code == 401


def _fields(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


async def test_session_login_me_logout_and_fixation(auth_database_url: str) -> None:
    app = make_app(auth_database_url, extensions=[Sessions()])
    async with AsyncTestClient(app) as client:
        await add_user(app)
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        me = await client.get("/auth/me")
        logout = await client.post("/auth/logout")
        after = await client.get("/auth/me")
    assert login.status_code == 200
    assert "plait_session" in login.headers.get("set-cookie", "")
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert logout.status_code == 204
    assert after.status_code == 401


async def test_session_fixation_through_the_login_flow_on_a_server_store(auth_database_url: str) -> None:
    app = make_app(auth_database_url, extensions=[Sessions(DatabaseStore())], tables=["plait_session"])

    @app.post("/visit")
    async def visit(session: Session) -> None:
        session["visited"] = True

    async with AsyncTestClient(app) as client:
        await add_user(app)
        # The attacker gets a real session id from the site and plants it in the victim's browser...
        await client.post("/visit")
        planted = client.cookies["plait_session"]
        # ...the victim logs in with it.
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        victims = client.cookies["plait_session"]
        client.cookies.clear()
        as_attacker = await client.get("/auth/me", headers={"Cookie": f"plait_session={planted}"})
        as_victim = await client.get("/auth/me", headers={"Cookie": f"plait_session={victims}"})
        async with AsyncSession(app.extensions["database"].engine) as db:
            records = (await db.execute(select(SessionRecord.key))).scalars().all()
    assert login.status_code == 200
    assert victims != planted
    assert as_attacker.status_code == 401  # the planted id was deleted at login, not promoted
    assert as_victim.status_code == 200
    assert len(records) == 1  # only the victim's new record is left


async def test_change_password_keeps_this_session_and_voids_old_tokens(auth_database_url: str) -> None:
    app = make_app(auth_database_url, extensions=[Sessions()])
    async with AsyncTestClient(app) as client:
        await add_user(app)
        token = (await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})).json()[
            "access_token"
        ]
        wrong = await client.post(
            "/auth/password", json={"current_password": "nope", "new_password": "another fine passphrase"}
        )
        weak = await client.post("/auth/password", json={"current_password": PASSWORD, "new_password": "abc"})
        changed = await client.post(
            "/auth/password", json={"current_password": PASSWORD, "new_password": "another fine passphrase"}
        )
        me = await client.get("/auth/me")
        old_token = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        relogin = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": "another fine passphrase"}
        )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "current_password"]
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert changed.status_code == 200
    assert me.status_code == 200  # this session was renewed with the new password
    assert old_token.status_code == 401
    assert relogin.status_code == 200


async def test_guessing_the_current_password_is_throttled_like_a_login(auth_database_url: str) -> None:
    settings = FAST.__class__(**{**_fields(FAST), "throttle_account_limit": 2})
    app = make_app(auth_database_url, auth=Auth(settings=settings), extensions=[Sessions()])
    async with AsyncTestClient(app) as client:
        await add_user(app)
        assert (await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})).is_success
        guesses = [
            await client.post("/auth/password", json={"current_password": guess, "new_password": "a fine new one!"})
            for guess in ("guess one", "guess two", PASSWORD)
        ]
    assert [g.status_code for g in guesses] == [422, 422, 429]  # even the right one, once locked
    assert int(guesses[2].headers["retry-after"]) >= 1


async def test_password_reset_answers_the_same_and_mails_a_single_use_token(
    app: Plait[Any], mailbox: MemoryMailSender
) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        known = await client.post("/auth/password/reset", json={"email": "ada@example.com"})
        unknown = await client.post("/auth/password/reset", json={"email": "nobody@example.com"})
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert [m.to for m in mailbox.outbox] == ["ada@example.com"]
        token = mailbox.outbox[0].body.split("Your reset token: ")[1].split()[0]
        weak = await client.post("/auth/password/reset/confirm", json={"token": token, "password": "short"})
        done = await client.post("/auth/password/reset/confirm", json={"token": token, "password": "a new passphrase!"})
        reused = await client.post(
            "/auth/password/reset/confirm", json={"token": token, "password": "yet another passphrase"}
        )
        forged = await client.post(
            "/auth/password/reset/confirm", json={"token": token[:-2] + "xx", "password": "yet another passphrase"}
        )
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": "a new passphrase!"})
    assert weak.status_code == 422
    assert done.status_code == 200
    assert reused.status_code == 400
    assert "already used" in reused.json()["detail"]
    assert forged.status_code == 400
    assert login.status_code == 200


async def test_a_reset_token_is_spent_by_a_login_and_expires(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        auth: Auth = app.extensions["auth"]
        async with AsyncSession(app.extensions["database"].engine) as db:
            user = await _user(app)
            token = reset_token(auth, user)
            found = await user_for_reset_token(auth, db, token)
            assert found is not None
            assert found.id == user.id
        await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        async with AsyncSession(app.extensions["database"].engine) as db:
            assert await user_for_reset_token(auth, db, token) is None  # the login changed last_login
            fresh = reset_token(auth, await _user(app))
            auth.settings = auth.settings.__class__(**{**_fields(auth.settings), "reset_max_age": 1})
            stale = _backdate(fresh, seconds=5)
            assert await user_for_reset_token(auth, db, stale) is None


async def test_a_reset_token_is_spent_by_an_email_change(app: Plait[Any]) -> None:
    async with AsyncTestClient(app):
        await add_user(app)
        auth: Auth = app.extensions["auth"]
        token = reset_token(auth, await _user(app))
        async with AsyncSession(app.extensions["database"].engine) as db:
            user = await db.get(User, (await _user(app)).id)
            assert user is not None
            user.email = "ada@new.example.com"  # the link went to the old address: it must stop working
            await db.commit()
            assert await user_for_reset_token(auth, db, token) is None
            assert await user_for_reset_token(auth, db, reset_token(auth, user)) is not None


def _backdate(token: str, *, seconds: int) -> str:
    """The same token signed ``seconds`` earlier (re-signed with the test secret)."""
    signer = Signer([SECRET], salt="plait.auth.reset")
    payload = signer.unsign(token)
    return signer.sign(payload, timestamp=time.time() - seconds)


async def test_a_reset_link_uses_the_given_url(auth_database_url: str, mailbox: MemoryMailSender) -> None:
    from plait.auth import auth_router

    app = make_app(auth_database_url, auth=Auth(settings=FAST, mail=mailbox), router=False)
    app.include_router(auth_router(reset_url="https://example.com/reset?token={token}", register=False))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        await client.post("/auth/password/reset", json={"email": "ada@example.com"})
        register = await client.post("/auth/register", json={"email": "x@example.com", "password": PASSWORD})
    assert "https://example.com/reset?token=" in mailbox.outbox[0].body
    assert register.status_code in (404, 405)


async def test_without_tokens_login_answers_the_user_only(auth_database_url: str) -> None:
    from plait.auth import auth_router

    app = make_app(auth_database_url, router=False)
    app.include_router(auth_router(tokens=False))
    async with AsyncTestClient(app) as client:
        await add_user(app)
        body = (await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})).json()
        token_route = await client.post("/auth/token", data={"grant_type": "password"})
    assert set(body) == {"user"}
    assert token_route.status_code in (404, 405)


async def test_the_oauth2_token_route_is_included(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        form = {"grant_type": "password", "username": "ada@example.com", "password": PASSWORD}
        response = await client.post("/auth/token", data=form)
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_a_clash_at_insert_time_still_answers_202_not_500(app: Plait[Any], mailbox: MemoryMailSender) -> None:
    async with AsyncTestClient(app) as client:
        # The username a new account would default to (its email) belongs to someone else already.
        await add_user(app, username="x@example.com", email="other@example.com")
        response = await client.post("/auth/register", json={"email": "x@example.com", "password": PASSWORD})
        assert await _user(app, "x@example.com") is None
    assert response.status_code == 202
    assert mailbox.outbox[-1].to == "x@example.com"

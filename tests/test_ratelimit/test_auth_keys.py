"""Limits keyed on the user or the API key with plait.auth installed (SQLite).

A limit on a router or the app runs before the handler's ``CurrentUser``: these tests make sure the
named keys still see who is asking, and that made-up credentials cannot buy a fresh quota.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait, Request, Router
from plait.auth import CurrentUser, identity
from plait.auth.apikeys import create_api_key
from plait.auth.identity import get_auth, issue_tokens, key_hasher
from plait.ratelimit import RateLimiter, rate_limit
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import add_user, make_app

pytestmark = pytest.mark.anyio


def limited(tmp_path: Path) -> Plait[Any]:
    """``/users/me`` limited per user and ``/keys/me`` per API key, both by router dependencies."""
    app = make_app(f"sqlite:///{tmp_path / 'auth.db'}", extensions=[RateLimiter()], router=False)
    # Two user limits: the credentials are checked once for both (the second reuses the first's answer).
    users = Router(
        prefix="/users",
        dependencies=[
            rate_limit("1/minute", key="user", name="per-user"),
            rate_limit("100/hour", key="user", name="per-user-hourly"),
        ],
    )
    keys = Router(prefix="/keys", dependencies=[rate_limit("1/minute", key="api_key", name="per-key")])

    @users.get("/me")
    async def me(user: CurrentUser, db: AsyncSession) -> str:
        # The handler's user belongs to the request's session (not the limit's): this change is saved.
        user.email = f"{user.username}@seen.example"
        return str(user.username)

    @keys.get("/me")
    async def key_owner(user: CurrentUser) -> str:
        return str(user.username)

    app.include_router(users)
    app.include_router(keys)
    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_router_limit_per_user_counts_each_user_separately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = limited(tmp_path)
    checks: list[object] = []
    real = identity.resolve_user

    async def counted(request: Request, db: AsyncSession) -> Any:
        checks.append(request)
        return await real(request, db)

    monkeypatch.setattr(identity, "resolve_user", counted)
    async with AsyncTestClient(app) as client:
        ada, bob = await add_user(app), await add_user(app, "bob", "bob@example.com")
        auth = get_auth(app)
        ada_token, bob_token = issue_tokens(auth, ada).access_token, issue_tokens(auth, bob).access_token
        first = await client.get("/users/me", headers=bearer(ada_token))
        assert (first.status_code, first.text) == (200, "ada")
        assert first.headers["RateLimit-Remaining"] == "0"  # the tighter of the two, both counted for ada
        # Once for both limits, once more for the handler's CurrentUser (in the request's own session).
        assert len(checks) == 2
        # Same address, another user: a quota of its own (before the fix, the shared address quota).
        assert (await client.get("/users/me", headers=bearer(bob_token))).status_code == 200
        assert (await client.get("/users/me", headers=bearer(ada_token))).status_code == 429
        # The handler still got the user in its own session: its change was committed.
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(type(ada), ada.id)
            assert stored is not None
            assert stored.email == "ada@seen.example"


async def test_wrong_tokens_count_against_the_address(tmp_path: Path) -> None:
    app = limited(tmp_path)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/users/me", headers=bearer("forged"))).status_code == 401
        # Another made-up token is no new identity: it shares the address's (spent) quota.
        assert (await client.get("/users/me", headers=bearer("forged-again"))).status_code == 429
        assert (await client.get("/users/me")).status_code == 429


async def test_a_router_limit_per_api_key_trusts_only_valid_keys(tmp_path: Path) -> None:
    app = limited(tmp_path)
    async with AsyncTestClient(app) as client:
        ada = await add_user(app)
        async with AsyncSession(app.extensions["database"].engine) as db:
            _, first = await create_api_key(db, ada, key_hasher(get_auth(app)))
            _, second = await create_api_key(db, ada, key_hasher(get_auth(app)))
            await db.commit()
        assert (await client.get("/keys/me", headers={"X-API-Key": first})).status_code == 200
        assert (await client.get("/keys/me", headers={"X-API-Key": second})).status_code == 200  # its own quota
        assert (await client.get("/keys/me", headers={"X-API-Key": first})).status_code == 429
        # Made-up keys: the first is a 401 (from the handler), the next ones share the address's quota,
        # so rotating invented keys does not escape the limit.
        assert (await client.get("/keys/me", headers={"X-API-Key": "made-up-1"})).status_code == 401
        assert (await client.get("/keys/me", headers={"X-API-Key": "made-up-2"})).status_code == 429
        # A signed-in user without a key is limited by address, like any other request without one.
        token = issue_tokens(get_auth(app), ada).access_token
        assert (await client.get("/keys/me", headers=bearer(token))).status_code == 429

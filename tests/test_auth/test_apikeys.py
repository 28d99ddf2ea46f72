"""API keys: hashed storage, prefix lookup, scopes, expiry, revocation, last-used time, key rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import APIKey
from plait.auth.apikeys import (
    KeyHasher,
    authenticate_api_key,
    create_api_key,
    is_live,
    list_api_keys,
    parse_api_key,
    revoke_api_key,
)
from plait.auth.identity import key_hasher
from plait.auth.permissions import requires_scope
from plait.db.models import utcnow
from plait.exceptions import ConfigurationError
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import add_user, create_tables, make_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(auth_database_url: str) -> Plait[Any]:
    app = make_app(auth_database_url)

    @app.post("/articles", dependencies=[requires_scope("articles:write")])
    async def write() -> dict[str, bool]:
        return {"written": True}

    return app


def session(app: Plait[Any]) -> AsyncSession:
    return AsyncSession(app.extensions["database"].engine, expire_on_commit=False)


async def test_created_key_is_stored_hashed_and_authenticates(app: Plait[Any]) -> None:
    async with AsyncTestClient(app):
        user = await add_user(app)
        hasher = key_hasher(app.extensions["auth"])
        async with session(app) as db:
            key, plain = await create_api_key(db, user, hasher, name="bot", scopes=["articles:write"])
            await db.commit()
        prefix, secret = parse_api_key(plain) or ("", "")
        assert key.prefix == prefix
        assert secret not in key.key_hash
        assert plain not in key.key_hash
        assert len(key.key_hash) == 64
        async with session(app) as db:
            found = await authenticate_api_key(db, plain, hasher)
            assert found is not None
            assert (found.id, found.user_id, found.scopes) == (key.id, user.id, ["articles:write"])
            assert found.last_used_at is not None
            first_use = found.last_used_at
            await db.commit()
        async with session(app) as db:
            again = await authenticate_api_key(db, plain, hasher)
            assert again is not None
            assert again.last_used_at == first_use  # written at most once a minute
            assert not db.dirty


async def test_unknown_malformed_revoked_and_expired_keys_are_refused(app: Plait[Any]) -> None:
    async with AsyncTestClient(app):
        user = await add_user(app)
        hasher = key_hasher(app.extensions["auth"])
        async with session(app) as db:
            live, plain = await create_api_key(db, user, hasher)
            _, expired = await create_api_key(db, user, hasher, expires_in=timedelta(seconds=-1))
            await db.commit()
        async with session(app) as db:
            for bad in (
                "",
                "plait_short_x",
                "plait_0123456789ab_nope",
                plain[:-1] + ("B" if plain.endswith("A") else "A"),
                "x" * 300,
                expired,
            ):
                assert await authenticate_api_key(db, bad, hasher) is None, bad
            assert await revoke_api_key(db, live.prefix, user_id=user.id + 1) is False  # someone else's key
            assert await revoke_api_key(db, live.prefix, user_id=user.id) is True
            assert await revoke_api_key(db, live.prefix) is False  # already revoked
            await db.commit()
        async with session(app) as db:
            assert await authenticate_api_key(db, plain, hasher) is None
            keys = await list_api_keys(db, user_id=user.id)
            assert [is_live(k) for k in keys] == [False, False]
            assert len(await list_api_keys(db)) == 2


async def test_a_key_hashed_with_an_old_secret_is_rehashed(app: Plait[Any]) -> None:
    async with AsyncTestClient(app):
        user = await add_user(app)
        old, new = KeyHasher("old secret"), KeyHasher("new secret", "old secret")
        async with session(app) as db:
            key, plain = await create_api_key(db, user, old)
            await db.commit()
        assert await _check(app, plain, KeyHasher("new secret")) is None  # the old secret dropped: refused
        async with session(app) as db:
            found = await authenticate_api_key(db, plain, new)
            assert found is not None
            await db.commit()
        async with session(app) as db:
            stored = (await db.execute(select(APIKey).where(APIKey.id == key.id))).scalars().one()
            assert new.match(plain.split("_", 2)[2], stored.key_hash) == 0


async def _check(app: Plait[Any], plain: str, hasher: KeyHasher) -> APIKey | None:
    async with session(app) as db:
        return await authenticate_api_key(db, plain, hasher)


async def test_route_scopes(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        hasher = key_hasher(app.extensions["auth"])
        async with session(app) as db:
            _, reader = await create_api_key(db, user, hasher, scopes=["articles:read"])
            _, writer = await create_api_key(db, user, hasher, scopes=["articles:write"])
            _, everything = await create_api_key(db, user, hasher, scopes=["*"])
            await db.commit()
        denied = await client.post("/articles", headers={"X-API-Key": reader})
        assert denied.status_code == 403
        assert "articles:write" in denied.json()["detail"]
        assert (await client.post("/articles", headers={"X-API-Key": writer})).json() == {"written": True}
        assert (await client.post("/articles", headers={"X-API-Key": everything})).status_code == 200
        assert (await client.post("/articles")).status_code == 401


def test_hasher_needs_a_secret() -> None:
    with pytest.raises(ConfigurationError, match="PLAIT_SECRET_KEY"):
        KeyHasher("", "")


def test_expiry_is_checked_against_now() -> None:
    key = APIKey(expires_at=utcnow() + timedelta(hours=1), revoked_at=None)
    assert is_live(key)
    assert not is_live(key, utcnow() + timedelta(hours=2))


def test_cli_create_list_revoke(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    create_tables(url)
    app = make_app(url, router=False, manage_tables=False)
    group = next(c for c in app.extensions["auth"].commands() if c.name == "apikeys")
    runner = CliRunner()

    async def setup() -> None:
        async with app.running():
            await add_user(app)

    anyio.run(setup)
    created = runner.invoke(group, ["create", "ada", "--name", "bot", "--scope", "a:r", "--expires-days", "3"], obj=app)
    assert created.exit_code == 0, created.output
    plain = created.stdout.strip()
    assert parse_api_key(plain) is not None
    assert "cannot show it again" in created.stderr
    listed = runner.invoke(group, ["list", "ada@example.com"], obj=app)
    prefix = plain.split("_")[1]
    assert f"{prefix}  user=1  bot  scopes=a:r  used=never  live" in listed.output
    assert runner.invoke(group, ["revoke", prefix], obj=app).output == f"Revoked {prefix}.\n"
    assert "revoked" in runner.invoke(group, ["list"], obj=app).output
    again = runner.invoke(group, ["revoke", prefix], obj=app)
    assert again.exit_code == 1
    assert "No live API key" in again.output
    nobody = runner.invoke(group, ["create", "nobody"], obj=app)
    assert "No user has the username or email 'nobody'" in nobody.output


def _altered(plain: str) -> str:
    """``plain`` with its last character changed (to another one, whatever it was)."""
    return plain[:-1] + ("B" if plain.endswith("A") else "A")

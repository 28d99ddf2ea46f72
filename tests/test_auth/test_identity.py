"""CurrentUser / OptionalUser: tokens, API keys and sessions, in that order; 401s that say why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait import Plait
from plait.auth import APIKey, Auth, CurrentUser, OptionalUser, User
from plait.auth.apikeys import create_api_key
from plait.auth.identity import (
    CREDENTIALS_SCOPE_KEY,
    get_auth,
    issue_tokens,
    key_hasher,
    optional_user,
    token_codec,
)
from plait.auth.jwt import derive_hmac_key
from plait.exceptions import ConfigurationError
from plait.requests import Request
from plait.sessions import Sessions
from plait.testing import AsyncTestClient
from tests.test_auth.conftest import FAST, PASSWORD, SECRET, add_user, make_app

pytestmark = pytest.mark.anyio


def protect(app: Plait[Any]) -> Plait[Any]:
    """Routes that need a user, take one optionally, and report how it was resolved."""

    @app.get("/private")
    async def private(user: CurrentUser, request: Request) -> dict[str, Any]:
        credentials = request.scope.get(CREDENTIALS_SCOPE_KEY)
        return {"username": user.username, "method": credentials.method if credentials else None}

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, Any]:
        return {"username": user.username if user else None}

    @app.get("/twice")
    async def twice(first: CurrentUser, second: OptionalUser, request: Request) -> dict[str, bool]:
        # One resolution per request: both parameters are the very same object, cached in the scope.
        return {"same": first is second and request.scope["plait.user"] is first}

    return app


@pytest.fixture
def app(tmp_path: Any) -> Plait[Any]:
    return protect(make_app(f"sqlite:///{tmp_path / 'auth.db'}"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credentials_is_401_with_a_challenge(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        response = await client.get("/private")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer <token>" in response.json()["detail"]
        assert (await client.get("/maybe")).json() == {"username": None}


async def test_access_token_authenticates_once_per_request(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        pair = issue_tokens(get_auth(app), user)
        response = await client.get("/private", headers=bearer(pair.access_token))
        assert response.json() == {"username": "ada", "method": "token"}
        assert (await client.get("/maybe", headers=bearer(pair.access_token))).json() == {"username": "ada"}
        assert (await client.get("/twice", headers=bearer(pair.access_token))).json() == {"same": True}
        # A refresh token is never an access token.
        refused = await client.get("/private", headers=bearer(pair.refresh_token or ""))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged_tokens() -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": "1", "kind": "access", "iat": now, "nbf": now, "exp": now + timedelta(minutes=5)}
    key = derive_hmac_key(SECRET)
    unsigned = json.dumps({**claims, "iat": 0, "nbf": 0, "exp": 9_999_999_999}).encode()
    return {
        "alg none": f"{_b64(json.dumps({'alg': 'none'}).encode())}.{_b64(unsigned)}.",
        "expired": pyjwt.encode({**claims, "exp": now - timedelta(seconds=1)}, key, algorithm="HS256"),
        "not yet valid": pyjwt.encode({**claims, "nbf": now + timedelta(hours=1)}, key, algorithm="HS256"),
        "wrong audience": pyjwt.encode({**claims, "aud": "elsewhere"}, key, algorithm="HS256"),
        "other key": pyjwt.encode(claims, derive_hmac_key("another secret"), algorithm="HS256"),
        "garbage": "not-a-token",
        "oversized": pyjwt.encode({**claims, "pad": "x" * 9000}, key, algorithm="HS256"),
    }


@pytest.mark.parametrize("case", sorted(_forged_tokens()))
async def test_bad_tokens_are_401_invalid_token(app: Plait[Any], case: str) -> None:
    async with AsyncTestClient(app) as client:
        await add_user(app)
        for path in ("/private", "/maybe"):  # bad credentials are never read as "anonymous"
            response = await client.get(path, headers=bearer(_forged_tokens()[case]))
            assert response.status_code == 401, case
            assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token", error_description=')
            assert response.headers["content-type"] == "application/problem+json"


async def test_inactive_deleted_and_changed_password_users_lose_their_tokens(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        other = await add_user(app, "bob", "bob@example.com", is_active=False)
        auth = get_auth(app)
        assert (await client.get("/private", headers=bearer(issue_tokens(auth, other).access_token))).status_code == 401
        ghost = token_codec(auth).access_token(999)
        assert (await client.get("/private", headers=bearer(ghost))).status_code == 401
        not_a_number = token_codec(auth).access_token("abc")
        assert (await client.get("/private", headers=bearer(not_a_number))).status_code == 401
        token = issue_tokens(auth, user).access_token
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(auth.user_model, user.id)
            await auth.set_password(stored, "a brand new password", validate=False)
            await db.commit()
        response = await client.get("/private", headers=bearer(token))
        assert response.status_code == 401
        assert "password changed" in response.json()["detail"]


async def test_other_authorization_schemes_are_ignored(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        response = await client.get("/private", headers={"Authorization": "Basic YWRhOnB3"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_custom_token_scheme(tmp_path: Any) -> None:
    app = protect(make_app(f"sqlite:///{tmp_path / 'a.db'}", auth=Auth(settings=FAST, token_scheme="Token")))
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        token = issue_tokens(get_auth(app), user).access_token
        assert (await client.get("/private", headers={"Authorization": f"Token {token}"})).status_code == 200
        response = await client.get("/private", headers={"Authorization": "Token junk"})
        assert response.headers["www-authenticate"].startswith('Token error="invalid_token"')


async def test_api_key_in_header_or_query(app: Plait[Any]) -> None:
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        auth = get_auth(app)
        async with AsyncSession(app.extensions["database"].engine) as db:
            _, plain = await create_api_key(db, user, key_hasher(auth))
            await db.commit()
        response = await client.get("/private", headers={"X-API-Key": plain})
        assert response.json() == {"username": "ada", "method": "api_key"}
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = (await db.execute(select(APIKey))).scalars().one()
            assert stored.last_used_at is not None  # committed with the request's session
        assert (await client.get("/private", params={"api_key": plain})).status_code == 200
        refused = await client.get(
            "/private", headers={"X-API-Key": plain[:-1] + ("B" if plain.endswith("A") else "A")}
        )
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'APIKey header="X-API-Key", error="invalid_key"'


async def test_session_login_then_password_change_logs_out(tmp_path: Any) -> None:
    app = protect(make_app(f"sqlite:///{tmp_path / 's.db'}", extensions=[Sessions()]))
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        login = await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert (await client.get("/private")).json() == {"username": "ada", "method": "session"}
        auth = get_auth(app)
        async with AsyncSession(app.extensions["database"].engine) as db:
            stored = await db.get(auth.user_model, user.id)
            await auth.set_password(stored, "a brand new password", validate=False)
            await db.commit()
        assert (await client.get("/private")).status_code == 401


async def test_session_without_a_login_is_anonymous(tmp_path: Any) -> None:
    app = protect(make_app(f"sqlite:///{tmp_path / 's.db'}", extensions=[Sessions()]))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/maybe")).json() == {"username": None}


async def test_a_user_already_in_the_scope_is_used(app: Plait[Any]) -> None:
    # login() puts the user in the scope; later lookups in the same request take it from there.
    someone = User(username="someone", email="someone@example.com")
    request = Request({"type": "http", "headers": [], "plait.user": someone, "app": app})
    assert await optional_user(request, None) is someone  # type: ignore[arg-type]


def test_get_auth_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"extensions=\[Database\(\), Auth\(\)\]"):
        get_auth(Plait())


def test_key_hasher_before_setup() -> None:
    with pytest.raises(ConfigurationError, match="not set up yet"):
        key_hasher(Auth())


async def test_rs256_app_refuses_its_public_key_used_as_an_hmac_secret(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = tmp_path / "jwt.pem", tmp_path / "jwt.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings = msgspec.structs.replace(
        FAST, jwt_algorithm="RS256", jwt_private_key_file=str(private), jwt_public_key_file=str(public)
    )
    app = protect(make_app(f"sqlite:///{tmp_path / 'rs.db'}", auth=Auth(settings=settings)))
    async with AsyncTestClient(app) as client:
        user = await add_user(app)
        genuine = issue_tokens(get_auth(app), user).access_token
        assert (await client.get("/private", headers=bearer(genuine))).status_code == 200
        # The public key is public: an attacker HMAC-signs a token with it and says "HS256".
        now = int(datetime.now(UTC).timestamp())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(
            json.dumps({"sub": str(user.id), "kind": "access", "iat": now, "nbf": now, "exp": now + 60}).encode()
        )
        signature = hmac.new(public.read_bytes(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        response = await client.get("/private", headers=bearer(f"{header}.{body}.{_b64(signature)}"))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert "not signed with RS256" in response.json()["detail"]

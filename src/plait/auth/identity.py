"""Who is making the request: ``CurrentUser`` (401 when nobody) and ``OptionalUser`` (None when nobody).

The user comes from the first credential the request carries, in this order:

1. ``Authorization: Bearer <access token>`` (the scheme word is ``Auth(token_scheme=...)``);
2. an API key, in the ``X-API-Key`` header or the ``api_key`` query parameter (both configurable);
3. the session (``plait.sessions``), as :func:`plait.auth.login.login` left it.

A token or key that is present but wrong is a 401, never a silent fall-back to the next source: a
client that sent credentials wants to know they failed. Inactive users are never authenticated. The
result is cached for the request in ``scope["plait.user"]`` (None when anonymous), where other
batteries (rate limiting per user) read it.

::

    from plait.auth import CurrentUser, OptionalUser

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"username": user.username}
"""

from __future__ import annotations

import hmac
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.apikeys import KeyHasher, authenticate_api_key
from plait.auth.jwt import InvalidToken, TokenCodec, TokenPair
from plait.auth.login import SESSION_HASH_KEY, SESSION_USER_KEY, USER_SCOPE_KEY, session_hash
from plait.auth.models import APIKey, User
from plait.auth.openapi import PROTECTED
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.requests import Request

if TYPE_CHECKING:
    from plait.auth.extension import Auth

__all__ = [
    "CREDENTIALS_SCOPE_KEY",
    "Credentials",
    "CurrentUser",
    "OptionalUser",
    "current_user",
    "get_auth",
    "issue_tokens",
    "key_hasher",
    "optional_user",
    "password_claim",
    "token_codec",
]

CREDENTIALS_SCOPE_KEY = "plait.auth.credentials"
"""Where the request's :class:`Credentials` are kept (how the user was authenticated)."""

_hashers: weakref.WeakKeyDictionary[Any, KeyHasher] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the request's user was authenticated: ``"token"``, ``"api_key"`` (with the key) or ``"session"``."""

    method: Literal["token", "api_key", "session"]
    api_key: APIKey | None = None


def get_auth(app: Any) -> Auth:
    """The app's installed :class:`~plait.auth.Auth` extension."""
    for ext in getattr(app, "extensions", ()):
        if ext.name == "auth":
            found: Auth = ext
            return found
    raise ConfigurationError(
        "CurrentUser, OptionalUser and requires() need the Auth extension: "
        "app = Plait(extensions=[Database(), Auth()])."
    )


def token_codec(auth: Auth) -> TokenCodec:
    """The app's :class:`TokenCodec`, built from its settings once (``PLAIT_AUTH_JWT_*``), kept as ``auth.tokens``."""
    codec: TokenCodec | None = getattr(auth, "tokens", None)
    if codec is None:
        codec = TokenCodec.from_auth(auth, auth.app)
        auth.tokens = codec  # type: ignore[attr-defined]
    return codec


def issue_tokens(auth: Auth, user: Any) -> TokenPair:
    """An access and refresh token for ``user``; both stop working when the user's password changes."""
    return token_codec(auth).pair(user.id, pwd=password_claim(user))


def key_hasher(auth: Auth) -> KeyHasher:
    """The app's API-key hasher, keyed with ``PLAIT_SECRET_KEY`` (and its fallbacks)."""
    hasher = _hashers.get(auth)
    if hasher is None:
        if auth.app is None:
            raise ConfigurationError("The Auth extension is not set up yet: start the app (app.build()) first.")
        hasher = _hashers[auth] = KeyHasher.from_settings(auth.app.settings)
    return hasher


def password_claim(user: Any) -> str:
    """A fragment of :func:`~plait.auth.login.session_hash` put in tokens: a password change voids them."""
    return session_hash(user)[:16]


def _challenge(auth: Auth, error: str | None = None, description: str | None = None) -> dict[str, str]:
    """The ``WWW-Authenticate`` header of a 401 (RFC 6750 section 3)."""
    value = auth.token_scheme
    if error is not None:
        value += f' error="{error}", error_description="{description}"'
    return {"WWW-Authenticate": value}


def _unauthorized(auth: Auth, detail: str) -> HTTPException:
    return HTTPException(401, detail, _challenge(auth, "invalid_token", detail.replace('"', "'")))


async def _load(db: AsyncSession, auth: Auth, user_id: Any) -> Any | None:
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        return None
    user = await db.get(auth.user_model, key)
    return user if user is not None and user.is_active else None


async def _from_token(request: Request, db: AsyncSession, auth: Auth, token: str) -> Any:
    try:
        claims = token_codec(auth).decode(token.strip())
    except InvalidToken as exc:
        raise _unauthorized(auth, str(exc)) from None
    user = await _load(db, auth, claims["sub"])
    if user is None:
        raise _unauthorized(auth, "The token's user does not exist or is inactive.")
    fragment = claims.get("pwd")
    if fragment is not None and not hmac.compare_digest(str(fragment), password_claim(user)):
        raise _unauthorized(auth, "The password changed since this token was issued; log in again.")
    request.scope[CREDENTIALS_SCOPE_KEY] = Credentials("token")
    return user


async def _from_api_key(request: Request, db: AsyncSession, auth: Auth, plain: str) -> Any:
    # API keys belong to auth_user ids: with a replacement user model the same id names another
    # table's account, so no key can authenticate anyone.
    key = None if auth.replaces_user else await authenticate_api_key(db, plain, key_hasher(auth))
    user = await _load(db, auth, key.user_id) if key is not None else None
    if user is None:
        header = auth.settings.api_key_header
        raise HTTPException(
            401,
            "The API key is invalid, expired or revoked.",
            {"WWW-Authenticate": f'APIKey header="{header}", error="invalid_key"'},
        )
    request.scope[CREDENTIALS_SCOPE_KEY] = Credentials("api_key", key)
    return user


async def _from_session(request: Request, db: AsyncSession, auth: Auth) -> Any | None:
    session = request.scope.get("session")
    if session is None:
        return None
    await session.load()
    user_id = session.get(SESSION_USER_KEY)
    if user_id is None:
        return None
    user = await _load(db, auth, user_id)
    stored = session.get(SESSION_HASH_KEY)
    # The password changed since this session logged in (maybe to lock out whoever stole it): the
    # session no longer authenticates, as Django does it.
    if user is None or not isinstance(stored, str) or not hmac.compare_digest(stored, session_hash(user)):
        return None
    request.scope[CREDENTIALS_SCOPE_KEY] = Credentials("session")
    return user


async def resolve_user(request: Request, db: AsyncSession) -> Any | None:
    """The request's user from its token, API key or session (in that order), or None; not cached."""
    auth = get_auth(request.app)
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == auth.token_scheme.lower():
            return await _from_token(request, db, auth, token)
    settings = auth.settings
    plain = request.headers.get(settings.api_key_header)
    if plain is None and settings.api_key_query:
        plain = request.query_params.get(settings.api_key_query)
    if plain:
        return await _from_api_key(request, db, auth, plain)
    return await _from_session(request, db, auth)


async def optional_user(request: Request, db: AsyncSession) -> User | None:
    """The request's user or None (anonymous); bad credentials are still a 401. Cached per request."""
    scope = request.scope
    if USER_SCOPE_KEY in scope:
        cached: User | None = scope[USER_SCOPE_KEY]
        return cached
    user = await resolve_user(request, db)
    scope[USER_SCOPE_KEY] = user
    return user


async def current_user(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The request's user; a 401 with ``WWW-Authenticate`` when there is none."""
    if user is None:
        auth = get_auth(request.app)
        raise HTTPException(
            401,
            f"Authentication required: send 'Authorization: {auth.token_scheme} <token>', an API key in "
            f"{auth.settings.api_key_header}, or log in.",
            _challenge(auth),
        )
    return user


async def maybe_user(user: Annotated[User | None, Depends(optional_user)]) -> User | None:
    """What ``OptionalUser`` runs: :func:`optional_user`, documented as optional security."""
    return user


maybe_user.__plait_openapi__ = {"security": [*PROTECTED["security"], {}]}  # type: ignore[attr-defined]
current_user.__plait_openapi__ = PROTECTED  # type: ignore[attr-defined]

CurrentUser = Annotated[User, Depends(current_user)]
"""A handler parameter annotated ``CurrentUser`` gets the authenticated user (401 otherwise)."""
OptionalUser = Annotated[User | None, Depends(maybe_user)]
"""A handler parameter annotated ``OptionalUser`` gets the user, or None for an anonymous request."""

"""The OAuth2 token endpoint (RFC 6749): the password grant, which ``/docs``' Authorize button uses, and refresh.

``POST /auth/token`` takes a form (``application/x-www-form-urlencoded``, as RFC 6749 section 4.3
says):

* ``grant_type=password&username=...&password=...``: ``username`` is the login field of the app
  (``Auth(login_field=...)``: the email by default). Failures count towards the same login
  throttling as ``POST /auth/login``;
* ``grant_type=refresh_token&refresh_token=...``: a new pair for a valid refresh token whose user is
  still active and has not changed password since. ``POST /auth/token/refresh`` does the same with a
  JSON body (``{"refresh_token": ...}``) and answers a problem (401) when it fails.

Success is the RFC 6749 token response (``access_token``, ``token_type``, ``expires_in``,
``refresh_token``); a failure is an RFC 6749 section 5.2 error body (``{"error": "invalid_grant",
"error_description": ...}``, status 400), which OAuth2 clients such as Swagger UI understand. Both
are sent with ``Cache-Control: no-store``: tokens must not be kept by caches.

``auth_router()`` includes this route; to place it yourself::

    router = Router("/auth")
    token_routes(router)
"""

from __future__ import annotations

import hmac
import math
from typing import Annotated, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.extension import Auth
from plait.auth.identity import issue_tokens, password_claim, token_codec
from plait.auth.jwt import InvalidToken, TokenPair
from plait.auth.passwords import PasswordTooLong
from plait.auth.throttle import account_key, ip_key
from plait.db.models import utcnow
from plait.exceptions import HTTPException
from plait.params import Form
from plait.requests import Request
from plait.responses import JSONResponse
from plait.routing import Router

__all__ = ["OAuth2Error", "RefreshIn", "refresh_endpoint", "token_endpoint", "token_routes"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FIELD_LIMIT = 4096  # bounds what a form field may hold before any work is done on it
_PASSWORD_LIMIT = 65536  # the hasher's own, lower cap (PLAIT_AUTH_PASSWORD_MAX_BYTES) says more


class OAuth2Error(Exception):
    """An RFC 6749 section 5.2 error: ``error`` is one of the registered codes."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status_code, headers=_NO_STORE)


def _field(value: str, name: str, limit: int = _FIELD_LIMIT) -> str:
    if not value:
        raise OAuth2Error("invalid_request", f"The {name!r} form field is missing.")
    if len(value) > limit:
        raise OAuth2Error("invalid_request", f"The {name!r} form field is too long.")
    return value


async def _password_grant(request: Request, db: AsyncSession, auth: Auth, username: str, password: str) -> Any:
    login = _field(username, "username")
    _field(password, "password", _PASSWORD_LIMIT)
    keys = [(account_key(login), auth.settings.throttle_account_limit)]
    if request.client is not None:
        keys.append((ip_key(request.client.host), auth.settings.throttle_ip_limit))
    window = auth.settings.throttle_window
    for key, limit in keys:  # checked before any hash is computed: a throttled guess costs nothing
        failures, left = await auth.throttle.failures(key, window)
        if failures >= limit:
            raise HTTPException(
                429, "Too many failed logins; wait before trying again.", {"Retry-After": str(max(1, math.ceil(left)))}
            )
    try:
        user = await auth.authenticate(db, login, password)
    except PasswordTooLong as exc:
        raise OAuth2Error("invalid_request", str(exc)) from None
    if user is None:
        for key, _ in keys:
            await auth.throttle.fail(key, window)
        raise OAuth2Error("invalid_grant", f"Wrong {auth.login_field} or password.")
    await auth.throttle.clear(keys[0][0])
    user.last_login = utcnow()
    await db.flush()
    return user


async def _refresh_grant(db: AsyncSession, auth: Auth, refresh_token: str) -> Any:
    try:
        claims = token_codec(auth).decode(_field(refresh_token, "refresh_token"), kind="refresh")
    except InvalidToken as exc:
        raise OAuth2Error("invalid_grant", str(exc)) from None
    try:
        user = await db.get(auth.user_model, int(claims["sub"]))
    except ValueError:
        user = None
    if user is None or not user.is_active:
        raise OAuth2Error("invalid_grant", "The token's user does not exist or is inactive.")
    fragment = claims.get("pwd")
    # Constant time, like every other comparison of a secret-derived value in plait.auth.
    if fragment is not None and not hmac.compare_digest(str(fragment), password_claim(user)):
        raise OAuth2Error("invalid_grant", "The password changed since this token was issued; log in again.")
    return user


async def token_endpoint(
    request: Request,
    db: AsyncSession,
    auth: Auth,
    grant_type: Annotated[str, Form(description="password, or refresh_token")] = "",
    username: Annotated[str, Form(description="The login: email or username, as the app is set up")] = "",
    password: Annotated[str, Form()] = "",
    refresh_token: Annotated[str, Form(description="With grant_type=refresh_token")] = "",
    scope: Annotated[str, Form(description="Ignored: Plait tokens carry the user's own rights")] = "",
) -> JSONResponse:
    """Get an access token (and a refresh token) with a password or a refresh token (OAuth2)."""
    try:
        if grant_type == "password":
            user = await _password_grant(request, db, auth, username, password)
        elif grant_type == "refresh_token":
            user = await _refresh_grant(db, auth, refresh_token)
        else:
            raise OAuth2Error(
                "unsupported_grant_type" if grant_type else "invalid_request",
                "Use grant_type=password (with username and password) or grant_type=refresh_token.",
            )
    except OAuth2Error as exc:
        return exc.response()
    return JSONResponse(issue_tokens(auth, user), headers=_NO_STORE)


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(max_length=_FIELD_LIMIT)]


async def refresh_endpoint(data: RefreshIn, db: AsyncSession, auth: Auth) -> JSONResponse:
    """Trade a refresh token for a new token pair (JSON in and out, for browser apps)."""
    try:
        user = await _refresh_grant(db, auth, data.refresh_token)
    except OAuth2Error as exc:
        challenge = {"WWW-Authenticate": f'{auth.token_scheme} error="invalid_token"'}
        raise HTTPException(401, exc.description, challenge) from None
    return JSONResponse(issue_tokens(auth, user), headers=_NO_STORE)


# No CSRF check for these two (plait.csrf reads this attribute): they authenticate with what the
# body carries, never with a cookie, set no cookie and touch no session, and a cross-site page cannot
# read what they answer. A forged request gains the forger nothing.
token_endpoint.__plait_csrf_exempt__ = True  # type: ignore[attr-defined]
refresh_endpoint.__plait_csrf_exempt__ = True  # type: ignore[attr-defined]


def token_routes(router: Router, path: str = "/token") -> None:
    """Add the token endpoint to ``router`` at ``path``, and the JSON refresh endpoint at ``path + "/refresh"``.

    ``auth_router()`` does it for you.
    """
    router.post(
        path,
        summary="Get an OAuth2 access token",
        response_model=None,
        responses={
            200: {"description": "The RFC 6749 token response: access_token, token_type, expires_in, refresh_token."},
            400: {"description": "An RFC 6749 error: invalid_request, invalid_grant or unsupported_grant_type."},
            429: {"description": "Too many failed logins; Retry-After says when to try again."},
        },
    )(token_endpoint)
    router.post(
        f"{path}/refresh",
        summary="Refresh the access token",
        response_model=TokenPair,
        responses={401: {"description": "The refresh token is not valid (expired, forged, or its user changed)."}},
    )(refresh_endpoint)

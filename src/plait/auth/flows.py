"""The auth flows as JSON endpoints: ``app.include_router(auth_router())``.

======  ===============================  =====================================================================
POST    ``/auth/register``               202, the same answer whether or not the email is known (mail tells more)
POST    ``/auth/login``                  the user (and tokens); a session login too when Sessions is installed
POST    ``/auth/logout``                 204; ends the session
GET     ``/auth/me``                     the logged-in user (401 otherwise)
POST    ``/auth/password``               change the password (the current one is asked again)
POST    ``/auth/password/reset``         202, the same answer for known and unknown emails; mails a link
POST    ``/auth/password/reset/confirm`` set a new password with the mailed token (single use, expiring)
POST    ``/auth/token``                  the OAuth2 password grant (``plait.auth.oauth2``), for /docs
======  ===============================  =====================================================================

Login failures are counted per account and per client address: past the limits the answer is 429
with ``Retry-After``, before any password hash is computed. Passwords over the length cap and
passwords that break the rules are 422 problems naming the field.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.extension import Auth
from plait.auth.identity import CurrentUser, issue_tokens
from plait.auth.login import login, logout
from plait.auth.mail import EmailMessage
from plait.auth.passwords import PasswordTooLong, check_password
from plait.auth.throttle import account_key, ip_key
from plait.auth.validators import PasswordValidationError
from plait.background import BackgroundTasks
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError
from plait.requests import Request
from plait.responses import Response
from plait.routing import Router
from plait.signing import BadSignature, Signer

__all__ = ["LoginResult", "UserOut", "auth_router", "reset_token", "user_for_reset_token"]

RESET_SALT = "plait.auth.reset"
REGISTERED = "If this address can be registered, an email is on its way to it with what to do next."
RESET_SENT = "If an account uses this address, an email is on its way to it with a link to choose a new password."
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")]
# The cap here only bounds what is decoded; the hasher's own cap (PLAIT_AUTH_PASSWORD_MAX_BYTES) answers 422.
Password = Annotated[str, msgspec.Meta(max_length=65536)]


class UserOut(msgspec.Struct, kw_only=True):
    """A user as the flows show it (never the password hash)."""

    id: int
    username: str
    email: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime
    last_login: datetime | None = None


class LoginResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The logged-in user, and an access/refresh token pair when the token half of plait.auth is there."""

    user: UserOut
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None


class Message(msgspec.Struct):
    detail: str


class RegisterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    username: Username | None = None


class LoginIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: Password
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    username: Annotated[str, msgspec.Meta(max_length=150)] | None = None


class PasswordChangeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class ResetIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email


class ResetConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=1024)]
    password: Password


def user_out(user: Any) -> UserOut:
    return msgspec.convert(user, UserOut, from_attributes=True)


def _invalid(field: str, messages: list[str], kind: str = "password_invalid") -> RequestValidationError:
    return RequestValidationError([ErrorDetail(("body", field), message, kind) for message in messages])


async def _checked(field: str, action: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``action``; a broken password rule or an over-long password becomes a 422 naming ``field``."""
    try:
        return await action()
    except PasswordValidationError as exc:
        raise _invalid(field, exc.messages) from None
    except PasswordTooLong as exc:
        raise _invalid(field, [str(exc)], "password_too_long") from None


# -- password reset tokens ----------------------------------------------------------------------------


def _fingerprint(user: Any) -> str:
    # Bound to the password hash, the last login and the email address: a reset (new hash) or any
    # login spends the token, and a link mailed to an address the account no longer uses stops working.
    last_login = user.last_login.isoformat() if user.last_login else ""
    state = f"{user.id}:{user.password}:{last_login}:{user.email}"
    return hmac.new(b"plait.auth.reset", state.encode(), hashlib.sha256).hexdigest()[:32]


def reset_token(auth: Auth, user: Any) -> str:
    """A signed password-reset token for ``user``: valid once, for ``PLAIT_AUTH_RESET_MAX_AGE`` seconds."""
    assert auth.app is not None
    return Signer.from_settings(auth.app.settings, salt=RESET_SALT).dumps([user.id, _fingerprint(user)])


async def user_for_reset_token(auth: Auth, db: AsyncSession, token: str) -> Any | None:
    """The user ``token`` was made for, or None when it is forged, expired or already spent."""
    assert auth.app is not None
    signer = Signer.from_settings(auth.app.settings, salt=RESET_SALT)
    try:
        user_id, fingerprint = signer.loads(token, max_age=auth.settings.reset_max_age, type=tuple[int, str])
    except BadSignature:
        return None
    user = await db.get(auth.user_model, user_id)
    if user is None or not user.is_active or not hmac.compare_digest(fingerprint, _fingerprint(user)):
        return None
    return user


# -- the handlers -----------------------------------------------------------------------------------


def _login_value(auth: Auth, data: LoginIn) -> str:
    value = data.email if auth.login_field == "email" else data.username
    if not value:
        raise RequestValidationError(
            [ErrorDetail(("body", auth.login_field), f"Give the {auth.login_field} to log in with.", "missing")]
        )
    return value


async def _throttle_check(auth: Auth, keys: list[tuple[str, int]]) -> None:
    window = auth.settings.throttle_window
    for key, limit in keys:
        failures, left = await auth.throttle.failures(key, window)
        if failures >= limit:
            raise HTTPException(
                429,
                "Too many failed logins; wait before trying again.",
                headers={"Retry-After": str(max(1, math.ceil(left)))},
            )


def _throttle_keys(auth: Auth, request: Request, login_value: str) -> list[tuple[str, int]]:
    keys = [(account_key(login_value), auth.settings.throttle_account_limit)]
    if request.client is not None:
        keys.append((ip_key(request.client.host), auth.settings.throttle_ip_limit))
    return keys


def _tokens(auth: Auth, user: Any) -> dict[str, Any]:
    """An access/refresh pair for ``user`` (a password change voids it)."""
    return msgspec.structs.asdict(issue_tokens(auth, user))


def auth_router(
    prefix: str = "/auth",
    *,
    tags: list[str] | None = None,
    register: bool = True,
    tokens: bool = True,
    reset_url: str | None = None,
) -> Router:
    """The flows above as a router. ``register=False`` leaves out sign-up; ``tokens=False`` the JWT
    pair in the login answer and the OAuth2 token routes. ``reset_url`` is the page of the app that
    takes the reset token: ``"https://example.com/reset?token={token}"`` (else the mail holds the token).

    >>> sorted(route.path for route in auth_router().routes)[:3]
    ['/login', '/logout', '/me']
    """
    router = Router(prefix, tags=tags or ["auth"])
    if register:
        router.post("/register", status_code=202, summary="Create an account")(_register)
    router.post("/login", summary="Log in", responses={401: "Wrong login or password.", 429: "Too many failures."})(
        _make_login(tokens)
    )
    router.post("/logout", status_code=204, summary="Log out")(_logout)
    router.get("/me", summary="The logged-in user")(_me)
    router.post("/password", summary="Change the password")(_change_password)
    router.post("/password/reset", status_code=202, summary="Mail a password-reset link")(_make_reset(reset_url))
    router.post("/password/reset/confirm", summary="Choose a new password with a reset token")(_reset_confirm)
    if tokens:
        try:
            from plait.auth.oauth2 import token_routes
        except ImportError:  # pragma: no cover - the token half of plait.auth is not there
            pass
        else:
            token_routes(router)
    return router


async def _register(data: RegisterIn, auth: Auth, db: AsyncSession, background: BackgroundTasks) -> Message:
    email = auth.normalize_email(data.email)
    chosen = _chosen_username(auth, data.username, email)
    username = chosen or email
    if auth.login_field == "username" and data.username is None:
        raise RequestValidationError([ErrorDetail(("body", "username"), "Choose a username.", "missing")])
    await _checked("password", lambda: _check_rules(auth, data.password, username, email))
    model = auth.user_model
    if chosen is not None and (await db.execute(select(model.id).where(model.username == chosen))).first():
        # Usernames are public (shown to others), so saying one is taken reveals nothing new.
        raise HTTPException(409, "This username is taken; choose another.")
    # The hash is computed whether or not the address is known: both answers cost the same.
    hashed = await _checked("password", lambda: auth.hash_password(data.password))
    known = (await db.execute(select(model.id).where(model.email == email))).first() is not None
    if not known:
        try:
            async with db.begin_nested():
                db.add(model(username=username, email=email, password=hashed))
        except sa_exc.IntegrityError:
            known = True  # registered by a concurrent request meanwhile
    subject, body = (
        ("Someone tried to register with your address",
         "An account with this address exists already. If it was you, log in, or reset your password."),
        ("Welcome", "Your account is ready: log in with this address and the password you chose."),
    )[0 if known else 1]  # fmt: skip
    # Sent after the response: a slow mail server must not make known and unknown addresses look different.
    background.add_task(auth.mail.send, EmailMessage(email, subject, body))
    return Message(REGISTERED)


def _chosen_username(auth: Auth, username: str | None, email: str) -> str | None:
    """The username the client chose, or None when it left it out (or gave its own email address).

    An account registered without a username gets its email address as one, so "this username is
    taken" for an email-shaped username would tell whether that address has an account: such
    usernames are refused (422) before anything is looked up, and the client's own address counts as
    no choice at all (the answer is then the usual 202, whether or not the address is known).
    """
    if username is None or auth.normalize_email(username) == email:
        return None
    if "@" in username:
        raise RequestValidationError(
            [
                ErrorDetail(
                    ("body", "username"),
                    "A username cannot contain '@' unless it is your own email address; choose another, or "
                    "leave it out to use your email address.",
                    "username_invalid",
                )
            ]
        )
    return username


async def _check_rules(auth: Auth, password: str, username: str, email: str) -> None:
    auth.hasher.check_length(password)
    auth.check_password_rules(password, {"username": username, "email": email})


def _make_login(tokens: bool) -> Callable[..., Awaitable[LoginResult]]:
    async def log_in(data: LoginIn, request: Request, auth: Auth, db: AsyncSession) -> LoginResult:
        value = _login_value(auth, data)
        keys = _throttle_keys(auth, request, value)
        await _throttle_check(auth, keys)
        user = await _checked("password", lambda: auth.authenticate(db, value, data.password))
        if user is None:
            for key, _ in keys:
                await auth.throttle.fail(key, auth.settings.throttle_window)
            raise HTTPException(401, f"Wrong {auth.login_field} or password.")
        await auth.throttle.clear(keys[0][0])
        await login(request, user, db)
        extra = _tokens(auth, user) if tokens else {}
        return LoginResult(user=user_out(user), **extra)

    return log_in


async def _logout(request: Request) -> Response:
    await logout(request)
    return Response(status_code=204)


async def _me(user: CurrentUser) -> UserOut:
    return user_out(user)


async def _change_password(
    data: PasswordChangeIn, user: CurrentUser, request: Request, auth: Auth, db: AsyncSession
) -> Message:
    auth.hasher.check_length(data.current_password)  # over the cap: a 422, not a hash of megabytes
    # Guesses at the current password (from a stolen session or token) count like failed logins:
    # otherwise this route would be an unthrottled way to find the password.
    keys = _throttle_keys(auth, request, getattr(user, auth.login_field))
    await _throttle_check(auth, keys)
    matches, _ = await check_password(user.password or None, data.current_password, auth.hasher)
    if not matches:
        for key, _limit in keys:
            await auth.throttle.fail(key, auth.settings.throttle_window)
        raise _invalid("current_password", ["The current password is wrong."], "password_mismatch")
    await _checked("new_password", lambda: auth.set_password(user, data.new_password))
    # Other sessions of this user carry the old password's fragment and stop working; this one goes on.
    await login(request, user, db)
    return Message("The password was changed.")


def _make_reset(reset_url: str | None) -> Callable[..., Awaitable[Message]]:
    async def reset(data: ResetIn, auth: Auth, db: AsyncSession, background: BackgroundTasks) -> Message:
        email = auth.normalize_email(data.email)
        model = auth.user_model
        user = (await db.execute(select(model).where(model.email == email))).scalars().first()
        if user is not None and user.is_active:
            token = reset_token(auth, user)
            link = reset_url.format(token=token) if reset_url else f"Your reset token: {token}"
            minutes = round(auth.settings.reset_max_age / 60)
            body = f"To choose a new password, use this within {minutes} minutes:\n\n{link}\n\nNot you? Ignore this."
            background.add_task(auth.mail.send, EmailMessage(email, "Reset your password", body))
        return Message(RESET_SENT)

    return reset


async def _reset_confirm(data: ResetConfirmIn, request: Request, auth: Auth, db: AsyncSession) -> Message:
    user = await user_for_reset_token(auth, db, data.token)
    if user is None:
        raise HTTPException(400, "The reset link is invalid, expired or already used; ask for a new one.")
    await _checked("password", lambda: auth.set_password(user, data.password))
    await db.flush()
    return Message("The password was changed; log in with it.")

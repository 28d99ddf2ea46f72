"""Signing up, signing in and changing one's account: shared by the API and the site.

Everything here goes through the auth battery (:class:`plait.auth.Auth`): password rules, argon2
hashing in a worker thread, the dummy verification that keeps unknown emails as slow as known ones,
and the failed-login throttle. Problems are raised as a :class:`RequestValidationError` whose
locations name the fields (``("body", "user", "email")``), so the API lists them and a form puts each
message under its field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import Member
from plait.auth import Auth, PasswordValidationError
from plait.auth.identity import current_user, maybe_user
from plait.auth.passwords import PasswordTooLong
from plait.auth.throttle import account_key, ip_key
from plait.db.models import utcnow
from plait.di import Depends
from plait.exceptions import ErrorDetail, HTTPException, RequestValidationError
from plait.requests import Request

__all__ = ["Me", "Viewer", "me", "sign_in", "sign_up", "update_account", "viewer"]

# Plait's OpenAPI convention: a dependency's ``__plait_openapi__`` is merged into every operation that
# uses it (the outermost first). These two wrap the auth battery's dependencies to keep its security
# requirements and to document the 401 as the API really answers it (``{"errors": {"body": [...]}}``,
# the ``GenericErrorModel`` component every API operation already references for its 422).
_ERRORS = {"application/json": {"schema": {"$ref": "#/components/schemas/GenericErrorModel"}}}


async def me(user: Annotated[Member, Depends(current_user)]) -> Member:
    """The signed-in member; a 401 when the request has no valid token (or session)."""
    return user


async def viewer(user: Annotated[Member | None, Depends(maybe_user)]) -> Member | None:
    """The signed-in member or None; a token that is sent but wrong is still a 401."""
    return user


me.__plait_openapi__ = {  # type: ignore[attr-defined]
    "security": current_user.__plait_openapi__["security"],  # type: ignore[attr-defined]
    "responses": {"401": {"description": "No token, or a token that is not valid.", "content": _ERRORS}},
}
viewer.__plait_openapi__ = {  # type: ignore[attr-defined]
    # The battery's list ends with {}: no credentials at all is fine.
    "security": maybe_user.__plait_openapi__["security"],  # type: ignore[attr-defined]
    "responses": {"401": {"description": "The token sent is not valid (sending none is fine).", "content": _ERRORS}},
}
Me = Annotated[Member, Depends(me)]
"""The signed-in member (token or session); a 401 otherwise."""
Viewer = Annotated[Member | None, Depends(viewer)]
"""The signed-in member, or None for an anonymous request (a bad token is still a 401)."""


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 for one field of the ``user`` object."""
    return RequestValidationError([ErrorDetail(("body", "user", field), message, "invalid")])


def blank(**fields: str | None) -> RequestValidationError | None:
    """A 422 naming every given field that is empty or only spaces (``None`` means "not sent", fine)."""
    details = [
        ErrorDetail(("body", "user", name), "can't be blank", "blank")
        for name, value in fields.items()
        if value is not None and not value.strip()
    ]
    return RequestValidationError(details) if details else None


async def _taken(db: AsyncSession, member: Member | None, *, username: str | None, email: str | None) -> None:
    details = []
    for field, value in (("username", username), ("email", email)):
        if value is None:
            continue
        query = select(Member.id).where(getattr(Member, field) == value)
        if member is not None:
            query = query.where(Member.id != member.id)
        if (await db.execute(query.limit(1))).first() is not None:
            details.append(ErrorDetail(("body", "user", field), "has already been taken", "taken"))
    if details:
        raise RequestValidationError(details)


def _password_errors(exc: ValueError) -> RequestValidationError:
    messages = exc.messages if isinstance(exc, PasswordValidationError) else [str(exc)]
    return RequestValidationError([ErrorDetail(("body", "user", "password"), m, "password") for m in messages])


async def sign_up(auth: Auth, db: AsyncSession, *, username: str, email: str, password: str) -> Member:
    """A new member; a 422 when a field is blank or taken, or the password breaks a rule."""
    problem = blank(username=username, email=email, password=password)
    if problem is not None:
        raise problem
    username, email = username.strip(), auth.normalize_email(email)
    await _taken(db, None, username=username, email=email)
    try:
        member: Member = await auth.create_user(db, username=username, email=email, password=password)
    except (PasswordValidationError, PasswordTooLong) as exc:
        raise _password_errors(exc) from None
    return member


async def sign_in(auth: Auth, db: AsyncSession, request: Request, *, email: str, password: str) -> Member:
    """The member with this email and password; 401 when they do not match, 429 after too many failures.

    Failures are counted per account and per client address (the auth battery's throttle), so a
    password cannot be guessed at speed; a success clears the account's count.
    """
    keys = [(account_key(email), auth.settings.throttle_account_limit)]
    if request.client is not None:
        keys.append((ip_key(request.client.host), auth.settings.throttle_ip_limit))
    for key, limit in keys:
        failures, left = await auth.throttle.failures(key, auth.settings.throttle_window)
        if failures >= limit:
            retry = str(max(1, math.ceil(left)))
            raise HTTPException(429, "too many failed logins; try again later", {"Retry-After": retry})
    try:
        member: Any = await auth.authenticate(db, email, password)
    except PasswordTooLong as exc:  # refused before any hashing: no megabytes handed to argon2
        raise invalid("password", str(exc)) from None
    if member is None:
        for key, _ in keys:
            await auth.throttle.fail(key, auth.settings.throttle_window)
        raise HTTPException(401, "email or password is invalid")
    await auth.throttle.clear(keys[0][0])
    member.last_login = utcnow()
    return member  # type: ignore[no-any-return]


async def update_account(
    auth: Auth,
    db: AsyncSession,
    member: Member,
    *,
    username: str | None = None,
    email: str | None = None,
    bio: str | None = None,
    image: str | None = None,
    password: str | None = None,
) -> bool:
    """Change what is given (an empty password means "keep it"); True when the password changed."""
    problem = blank(username=username, email=email)
    if problem is not None:
        raise problem
    username = username.strip() if username is not None else None
    email = auth.normalize_email(email) if email is not None else None
    await _taken(db, member, username=username, email=email)
    if password:
        try:
            await auth.set_password(member, password)
        except (PasswordValidationError, PasswordTooLong) as exc:
            raise _password_errors(exc) from None
    for field, value in (("username", username), ("email", email), ("bio", bio), ("image", image)):
        if value is not None:
            setattr(member, field, value)
    await db.flush()
    return bool(password)

"""``/users``, ``/users/login`` and ``/user``: registration, login, the current user."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conduit import accounts, shapes
from conduit.accounts import Me
from conduit.api.schemas import GenericErrorModel, LoginUserRequest, NewUserRequest, UpdateUserRequest, UserResponse
from conduit.models import Member
from plait.auth import Auth
from plait.auth.identity import CREDENTIALS_SCOPE_KEY, issue_tokens
from plait.csrf import csrf_exempt
from plait.db import values
from plait.requests import Request
from plait.routing import Router

router = Router(name="api_users", tags=["User and Authentication"])
UNAUTHORIZED: dict[int | str, Any] = {401: GenericErrorModel}


def user_response(member: Member, token: str) -> UserResponse:
    return UserResponse(
        shapes.User(email=member.email, token=token, username=member.username, bio=member.bio, image=member.image)
    )


def new_token(auth: Auth, member: Member) -> str:
    """A fresh access token (``Authorization: Token <it>``)."""
    return issue_tokens(auth, member).access_token


def presented_token(request: Request, auth: Auth, member: Member) -> str:
    """The token the client authenticated with, or a new one when it came with a session instead."""
    credentials = request.scope.get(CREDENTIALS_SCOPE_KEY)
    if credentials is not None and credentials.method == "token":
        return request.headers["authorization"].partition(" ")[2].strip()
    return new_token(auth, member)


# Why these two skip the CSRF check: they answer a token in the body and change no session, so a forged
# cross-site request gains nothing (its page cannot read the answer). Without the exemption a visitor
# signed in on the site (a session cookie) could not log in from /docs. Every other unsafe API request
# carries "Authorization: Token ..." (never checked) or, riding on the session cookie, must send the token.
@csrf_exempt
@router.post("/users/login", operation_id="Login", summary="Existing user login", responses=UNAUTHORIZED)
async def login(data: LoginUserRequest, request: Request, auth: Auth, db: AsyncSession) -> UserResponse:
    """Log in with an email and a password; the answer carries the token."""
    member = await accounts.sign_in(auth, db, request, email=data.user.email, password=data.user.password)
    return user_response(member, new_token(auth, member))


@csrf_exempt
@router.post("/users", status_code=201, operation_id="CreateUser", summary="Register a new user")
async def register(data: NewUserRequest, auth: Auth, db: AsyncSession) -> UserResponse:
    """Sign up; the answer carries the token, so the client is logged in at once."""
    given = data.user
    member = await accounts.sign_up(auth, db, username=given.username, email=given.email, password=given.password)
    return user_response(member, new_token(auth, member))


@router.get("/user", operation_id="GetCurrentUser", summary="Get current user")
async def current(me: Me, request: Request, auth: Auth) -> UserResponse:
    """The member the token belongs to."""
    return user_response(me, presented_token(request, auth, me))


@router.put("/user", operation_id="UpdateCurrentUser", summary="Update current user")
async def update(data: UpdateUserRequest, me: Me, request: Request, auth: Auth, db: AsyncSession) -> UserResponse:
    """Change any of email, username, password, bio and image.

    A new password voids every token issued before it, so the answer carries a new one.
    """
    changes = values(data.user)
    if "image" in changes and changes["image"] is None:
        changes["image"] = ""  # null: no picture
    changed = await accounts.update_account(auth, db, me, **changes)
    return user_response(me, new_token(auth, me) if changed else presented_token(request, auth, me))

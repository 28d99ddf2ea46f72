"""Users, passwords, login flows, tokens, API keys and permissions, as a battery.

::

    from plait import Plait
    from plait.auth import Auth, CurrentUser, auth_router
    from plait.db import Database

    app = Plait(extensions=[Database(), Auth()])
    app.include_router(auth_router())          # /auth/register, /auth/login, /auth/me, ...

    @app.get("/hello")
    async def hello(user: CurrentUser) -> str:
        return f"Hello {user.username}"

``plait db migrate`` creates the auth tables (Plait ships their migrations); ``plait createsuperuser``
makes the first account. Install the dependencies with ``pip install 'plait[auth]'``.
"""

try:
    import argon2  # noqa: F401 - checked here so the message can say what to install
    import jwt  # noqa: F401
    import sqlalchemy.ext.asyncio  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"plait.auth needs argon2-cffi, PyJWT and SQLAlchemy ({exc}); install them with: pip install 'plait[auth]'"
    ) from exc

from plait.auth.apikeys import create_api_key, revoke_api_key
from plait.auth.extension import Auth
from plait.auth.flows import auth_router
from plait.auth.identity import CurrentUser, OptionalUser, current_user, optional_user
from plait.auth.jwt import InvalidToken, TokenCodec
from plait.auth.login import login, logout
from plait.auth.mail import ConsoleMailSender, EmailMessage, MailSender, MemoryMailSender
from plait.auth.models import APIKey, Group, Permission, User, UserMixin
from plait.auth.passwords import Argon2Hasher, hash_password, verify_password
from plait.auth.permissions import (
    ObjectPermission,
    check_object,
    object_rule,
    requires,
    requires_group,
    requires_scope,
)
from plait.auth.settings import AuthSettings
from plait.auth.validators import PasswordValidationError, validate_password

__all__ = [
    "APIKey",
    "Argon2Hasher",
    "Auth",
    "AuthSettings",
    "ConsoleMailSender",
    "CurrentUser",
    "EmailMessage",
    "Group",
    "InvalidToken",
    "MailSender",
    "MemoryMailSender",
    "ObjectPermission",
    "OptionalUser",
    "PasswordValidationError",
    "Permission",
    "TokenCodec",
    "User",
    "UserMixin",
    "auth_router",
    "check_object",
    "create_api_key",
    "current_user",
    "hash_password",
    "login",
    "logout",
    "object_rule",
    "optional_user",
    "requires",
    "requires_group",
    "requires_scope",
    "revoke_api_key",
    "validate_password",
    "verify_password",
]

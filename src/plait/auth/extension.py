"""``Auth``: the extension that ties users, passwords, login throttling and mail to an app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio.to_thread
from sqlalchemy import select

from plait.auth.identity import token_codec
from plait.auth.login import USER_SCOPE_KEY
from plait.auth.mail import ConsoleMailSender, MailSender
from plait.auth.models import USER_TABLE, User, UserMixin
from plait.auth.passwords import Argon2Hasher, check_password
from plait.auth.settings import AuthSettings
from plait.auth.throttle import DatabaseThrottle, RedisThrottle, Throttle
from plait.auth.validators import Validator, default_validators, validate_password
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.extensions import Extension
from plait.settings import load_settings

if TYPE_CHECKING:
    import click
    from sqlalchemy.ext.asyncio import AsyncSession

    from plait.app import Plait
    from plait.requests import Request

__all__ = ["MIGRATIONS", "Auth"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The Alembic revisions Plait ships for the auth tables (branch label ``plait_auth``)."""
LOGIN_FIELDS = ("email", "username")


def _is_user_model(model: Any) -> bool:
    """A subclass of :class:`User`, or a mapped class with :class:`UserMixin`'s columns (a replacement)."""
    if not isinstance(model, type):
        return False
    return issubclass(model, User) or (issubclass(model, UserMixin) and hasattr(model, "__table__"))


class Auth(Extension):
    """Users and passwords for an app that installs :class:`plait.db.Database`.

    ``user_model`` is :class:`~plait.auth.User` unless given (a subclass of it with more columns, or a
    replacement: a model of the app's own with :class:`~plait.auth.UserMixin`, see :attr:`replaces_user`);
    ``login_field`` says what people log in with (``"email"`` or ``"username"``); ``token_scheme`` is
    the ``Authorization`` scheme of access tokens. Settings come from ``PLAIT_AUTH_*`` variables
    (:class:`AuthSettings`) unless ``settings`` is given. ``hasher``, ``validators``, ``mail`` and
    ``throttle`` replace the defaults built from the settings.

    >>> from plait import Plait
    >>> from plait.db import Database
    >>> from plait.settings import Settings
    >>> app = Plait(
    ...     settings=Settings(secret_key="change-me"),  # signs tokens, reset links and API-key hashes
    ...     extensions=[Database("sqlite+aiosqlite:///:memory:"), Auth(login_field="username")],
    ... )
    >>> _ = app.build()
    >>> auth = app.extensions["auth"]
    >>> auth.user_model.__name__, auth.login_field, type(auth.throttle).__name__
    ('User', 'username', 'DatabaseThrottle')
    """

    name = "auth"
    settings_type = AuthSettings
    settings: AuthSettings
    migrations_location: ClassVar[Path] = MIGRATIONS
    """Read by ``plait db``: these revisions are applied with the project's own (duck-typed hook)."""
    migrations_tables: ClassVar[frozenset[str]] = frozenset(
        {
            USER_TABLE,
            "auth_group",
            "auth_permission",
            "auth_user_groups",
            "auth_user_permissions",
            "auth_group_permissions",
            "auth_apikey",
            "auth_throttle",
        }
    )
    """Tables the shipped revisions own: the project's ``makemigrations`` leaves them alone."""

    def __init__(
        self,
        user_model: type[Any] | None = None,
        *,
        login_field: str = "email",
        token_scheme: str = "Bearer",  # noqa: S107 - an Authorization scheme name, not a secret
        settings: AuthSettings | None = None,
        hasher: Argon2Hasher | None = None,
        validators: Sequence[Validator] | None = None,
        mail: MailSender | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        if login_field not in LOGIN_FIELDS:
            raise ConfigurationError(f"Auth(login_field={login_field!r}): use 'email' or 'username'.")
        if user_model is not None and not _is_user_model(user_model):
            raise ConfigurationError(
                f"Auth(user_model={user_model!r}): the user model must subclass plait.auth.User to extend it "
                "(class Member(User): __tablename__ = 'member'; id = mapped_column(ForeignKey('auth_user.id'), "
                "primary_key=True); ...), or be a mapped model with UserMixin to replace it "
                "(class Account(UserMixin, Model): __tablename__ = 'account')."
            )
        self.user_model: type[Any] = user_model or User
        self.login_field = login_field
        self.token_scheme = token_scheme
        self._given = settings
        self._hasher = hasher
        self._validators = validators
        self.mail: MailSender = mail or ConsoleMailSender()
        self._throttle = throttle
        self.app: Plait[Any] | None = None

    @property
    def replaces_user(self) -> bool:
        """True when the user model has a table of its own rather than extending ``auth_user``.

        Groups, permissions and API keys are stored against ``auth_user`` ids, so such users get
        none of them: ``requires()`` lets only superusers through, ``requires_group()`` likewise,
        and API keys are refused (401). Object rules, tokens and sessions work as usual.
        """
        return not issubclass(self.user_model, User)

    def load_settings(self) -> AuthSettings:
        return self._given if self._given is not None else load_settings(AuthSettings, prefix="PLAIT_AUTH_")

    def setup(self, app: Plait[Any]) -> None:
        if not any(ext.name == "database" for ext in app.extensions):
            raise ConfigurationError(
                "Auth keeps users in the database: install it first, e.g. "
                "app = Plait(extensions=[Database(), Auth()]) or app.install(Database())."
            )
        self.app = app
        self.hasher = self._hasher or Argon2Hasher.from_settings(self.settings)
        self.validators: list[Validator] = (
            list(self._validators) if self._validators is not None else default_validators(self.settings)
        )
        if self._throttle is not None:
            self.throttle: Throttle = self._throttle
        elif self.settings.throttle_redis_url:
            self.throttle = RedisThrottle(self.settings.throttle_redis_url)
        else:
            self.throttle = DatabaseThrottle(app.extensions["database"])
        # Built now, so that a missing secret key or an unreadable JWT key file stops the app at
        # startup with the fix named, instead of turning the first login into a 500.
        token_codec(self)

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.throttle.aclose()

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lifespan()

    def _self(self) -> Auth:
        return self

    def providers(self) -> Mapping[Any, Depends]:
        """A parameter annotated ``Auth`` gets this extension (the flows use it)."""
        return {Auth: Depends(self._self)}

    def commands(self) -> Sequence[click.Command]:
        from plait.auth.apikeys import apikeys_group
        from plait.auth.cli import changepassword, createsuperuser

        return [createsuperuser, changepassword, apikeys_group()]

    def openapi_components(self) -> Mapping[str, Mapping[str, Any]]:
        try:
            from plait.auth.openapi import security_schemes
        except ImportError:  # pragma: no cover - the token half of plait.auth is not there
            return {}
        components: Mapping[str, Mapping[str, Any]] = security_schemes(self)
        return components

    async def template_context(self, request: Request) -> Mapping[str, Any]:
        """``current_user``: the user a ``CurrentUser``/``OptionalUser`` parameter resolved for this request, else None.

        Templates get no database query of their own: take ``user: OptionalUser`` in the page's handler.
        """
        return {"current_user": request.scope.get(USER_SCOPE_KEY)}

    # -- users --------------------------------------------------------------------------------------

    @staticmethod
    def normalize_email(email: str) -> str:
        """Emails are stored and looked up lower-cased and trimmed, so ``Ada@Example.com`` is one account.

        >>> Auth.normalize_email("  Ada@Example.COM ")
        'ada@example.com'
        """
        return email.strip().lower()

    async def get_by_login(self, db: AsyncSession, value: str) -> Any | None:
        """The user whose login field (email or username) is ``value``, or None."""
        model = self.user_model
        if self.login_field == "email":
            query = select(model).where(model.email == self.normalize_email(value))
        else:
            query = select(model).where(model.username == value.strip())
        return (await db.execute(query)).scalars().first()

    async def authenticate(self, db: AsyncSession, login: str, password: str) -> Any | None:
        """The active user with this login and password, else None; one argon2 verification either way.

        A password hashed with older parameters is re-hashed: the new hash is set on the user and
        saved when ``db`` flushes (not here, so that nothing holds a write lock on SQLite before the
        login flow has cleared the throttle, which uses a connection of its own). Unknown and inactive
        accounts get a dummy verification, so that timing does not tell them apart.
        """
        self.hasher.check_length(password)
        user = await self.get_by_login(db, login)
        # Unknown, inactive and password-less accounts all get the dummy verification (hashed=None).
        hashed = user.password if user is not None and user.is_active and user.has_usable_password() else None
        matches, new_hash = await check_password(hashed, password, self.hasher)
        if not matches or user is None:
            return None
        if new_hash is not None:
            user.password = new_hash
        return user

    def check_password_rules(self, password: str, attributes: Mapping[str, str]) -> None:
        """Raise :class:`~plait.auth.validators.PasswordValidationError` when ``password`` breaks a rule."""
        validate_password(password, attributes, self.validators)

    async def hash_password(self, password: str) -> str:
        """The hash of ``password``, made in a worker thread."""
        return await anyio.to_thread.run_sync(self.hasher.hash, password)

    async def create_user(
        self,
        db: AsyncSession,
        *,
        username: str,
        email: str,
        password: str | None,
        validate: bool = True,
        **fields: Any,
    ) -> Any:
        """Add a user (flushed, so it has an ``id``); ``password=None`` makes an account without one.

        ``validate`` runs the password rules first (raising ``PasswordValidationError``). A taken
        username or email raises SQLAlchemy's ``IntegrityError`` at the flush.
        """
        email = self.normalize_email(email)
        if password is not None and validate:
            self.check_password_rules(password, {"username": username, "email": email})
        hashed = "" if password is None else await self.hash_password(password)
        user = self.user_model(username=username, email=email, password=hashed, **fields)
        db.add(user)
        await db.flush()
        return user

    async def set_password(self, user: Any, password: str, *, validate: bool = True) -> None:
        """Check the rules (unless ``validate=False``) and store the new hash on ``user``."""
        if validate:
            self.check_password_rules(password, {"username": user.username, "email": user.email})
        user.password = await self.hash_password(password)

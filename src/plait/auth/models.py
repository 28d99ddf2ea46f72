"""The auth tables: users, groups, permissions, API keys and login throttling.

Every table lives on :class:`plait.db.Model`'s metadata, so the app's own models can point at them
(``mapped_column(ForeignKey("auth_user.id"))``). Plait ships their migrations: ``plait db migrate``
creates them, and ``plait db makemigrations`` leaves them out of the project's own revisions.

A project that needs more on its users (a bio, an avatar) subclasses :class:`User`: the subclass gets
a table of its own that shares the primary key of ``auth_user`` (SQLAlchemy's joined-table
inheritance). Groups, permissions and API keys keep pointing at ``auth_user``, the project's
``plait db makemigrations`` writes the extra table, and ``Auth(user_model=Member)`` makes login,
registration and ``CurrentUser`` use the subclass::

    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column

    from plait.auth import Auth, User

    class Member(User):
        __tablename__ = "member"
        id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
        bio: Mapped[str] = mapped_column(default="")

    app.install(Auth(user_model=Member))

>>> User.__table__.name, sorted(Group.__table__.c.keys())
('auth_user', ['id', 'name'])
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, false, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plait.db.models import Model, utcnow

__all__ = [
    "APIKey",
    "AbstractUser",
    "Group",
    "LoginThrottle",
    "Permission",
    "User",
    "UserMixin",
    "group_permissions",
    "user_groups",
    "user_permissions",
]

USER_TABLE = "auth_user"


class UserMixin:
    """The columns and helpers every user has; :class:`User` is the table Plait ships with them.

    ``password`` holds an argon2 hash (never the password), or ``""`` for an account that cannot log
    in with a password (:meth:`has_usable_password`).

    >>> sorted(name for name in UserMixin.__annotations__)  # doctest: +NORMALIZE_WHITESPACE
    ['date_joined', 'email', 'id', 'is_active', 'is_staff', 'is_superuser', 'last_login', 'password',
     'username']
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password: Mapped[str] = mapped_column(String(255), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_superuser: Mapped[bool] = mapped_column(default=False, server_default=false())
    date_joined: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_login: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_authenticated(self) -> bool:
        """Always true for a user loaded from the database (templates test it)."""
        return True

    def has_usable_password(self) -> bool:
        """False for an account made without a password (it can only log in some other way).

        >>> User(username="ada", email="ada@example.com", password="").has_usable_password()
        False
        """
        return (self.password or "").startswith("$argon2")

    def set_password(self, password: str | None) -> None:
        """Store the argon2 hash of ``password``; ``None`` makes the password unusable.

        Hashing takes tens of milliseconds of CPU: in async code run it in a thread
        (``await anyio.to_thread.run_sync(user.set_password, password)``).
        """
        from plait.auth.passwords import hash_password

        self.password = "" if password is None else hash_password(password)


AbstractUser = UserMixin
"""Another name for :class:`UserMixin` (what Django users look for)."""

user_groups = Table(
    "auth_user_groups",
    Model.metadata,
    Column("user_id", Integer, ForeignKey(f"{USER_TABLE}.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
)
"""Which groups a user belongs to."""

user_permissions = Table(
    "auth_user_permissions",
    Model.metadata,
    Column("user_id", Integer, ForeignKey(f"{USER_TABLE}.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", Integer, ForeignKey("auth_permission.id", ondelete="CASCADE"), primary_key=True),
)
"""Permissions given to a user directly (on top of those of the user's groups)."""

group_permissions = Table(
    "auth_group_permissions",
    Model.metadata,
    Column("group_id", Integer, ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", Integer, ForeignKey("auth_permission.id", ondelete="CASCADE"), primary_key=True),
)
"""The permissions of each group."""


class Permission(Model):
    """A permission such as ``articles.change``: ``codename`` is what code checks, ``name`` what people read."""

    __tablename__ = "auth_permission"
    id: Mapped[int] = mapped_column(primary_key=True)
    codename: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")


class Group(Model):
    """A named set of permissions (``editors``); users get the permissions of their groups."""

    __tablename__ = "auth_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    # Async sessions cannot load lazily: load them with selectinload(Group.permissions) when needed.
    permissions: Mapped[list[Permission]] = relationship(secondary=group_permissions, lazy="raise_on_sql")


class User(UserMixin, Model):
    """The user table Plait ships (``auth_user``); subclass it to add columns (see the module docs).

    >>> user = User(username="ada", email="ada@example.com")
    >>> user.is_authenticated, user.has_usable_password()
    (True, False)
    """

    __tablename__ = USER_TABLE
    # raise_on_sql: an async session cannot lazy-load, so a missing selectinload() fails loudly and early.
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="raise_on_sql")
    user_permissions: Mapped[list[Permission]] = relationship(secondary=user_permissions, lazy="raise_on_sql")


class APIKey(Model):
    """An API key: ``prefix`` (public, looked up) plus the argon2/SHA hash of the secret part; scoped, revocable."""

    __tablename__ = "auth_apikey"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(f"{USER_TABLE}.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    user: Mapped[User] = relationship(lazy="raise_on_sql")


class LoginThrottle(Model):
    """Failed logins counted per key (``account:<login>`` or ``ip:<address>``) in a time window."""

    __tablename__ = "auth_throttle"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)

"""API keys: long-lived credentials for scripts and services, sent in a header or the query string.

A key looks like ``plait_<prefix>_<secret>``. The prefix is public (it is stored as it is, indexed,
and shown in listings so people can tell their keys apart); the secret part is 256 random bits and
only a keyed hash of it is stored, so the plain key exists once: in what :func:`create_api_key`
returns. Keys carry scopes (``["articles:read"]``; ``"*"`` is every scope), can expire, can be
revoked, and record when they were last used (at most once a minute, so that a busy key does not
write to the database on every request).

::

    key, plain = await create_api_key(db, user, hasher, name="deploy bot", scopes=["articles:write"])
    print(plain)  # shown once; Plait keeps only its hash

    # curl -H "X-API-Key: plait_1a2b3c4d5e6f_..." https://example.com/articles
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.models import APIKey, User
from plait.db.models import utcnow
from plait.exceptions import ConfigurationError

if TYPE_CHECKING:
    import click

__all__ = [
    "ALL_SCOPES",
    "KeyHasher",
    "apikeys_group",
    "authenticate_api_key",
    "create_api_key",
    "has_scopes",
    "list_api_keys",
    "parse_api_key",
    "revoke_api_key",
]

ALL_SCOPES = "*"
"""The scope that grants every other one."""
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written only when it is older than this: one UPDATE a minute per busy key at most."""
_PREFIX_HEX = 12
T = TypeVar("T")
_DERIVATION = b"plait.auth.apikey"


class KeyHasher:
    """Hashes the secret part of API keys with HMAC-SHA256 keyed by the app's secret keys.

    Why a fast hash here when passwords get argon2: argon2 is slow on purpose, to make guessing a
    *human-chosen* password from its hash expensive. An API key's secret is 256 random bits; nobody
    can guess it, fast hash or not, so a slow hash would only burn CPU on every API request (and hand
    attackers a cheap way to load the server). The hash is *keyed* (a pepper derived from the app's
    secret key) so that someone who can write to the database cannot plant a key of their own
    without also knowing the secret key. Older secret keys (``PLAIT_SECRET_KEY_FALLBACKS``) still
    verify: a key that matches one is re-hashed with the current key the next time it is used.

    >>> hasher = KeyHasher("app secret")
    >>> stored = hasher.digest("the secret part")
    >>> hasher.match("the secret part", stored), hasher.match("another", stored)
    (0, None)
    """

    def __init__(self, *secret_keys: str) -> None:
        keys = [key for key in secret_keys if key]
        if not keys:
            raise ConfigurationError("API keys are hashed with the app's secret key: set PLAIT_SECRET_KEY.")
        self._keys = [hmac.new(key.encode(), _DERIVATION, hashlib.sha256).digest() for key in keys]

    @classmethod
    def from_settings(cls, settings: Any) -> KeyHasher:
        """A hasher over ``app.settings``' ``secret_key`` and ``secret_key_fallbacks``."""
        return cls(settings.secret_key, *settings.secret_key_fallbacks)

    def digest(self, secret: str, index: int = 0) -> str:
        return hmac.new(self._keys[index], secret.encode(), hashlib.sha256).hexdigest()

    def match(self, secret: str, stored: str) -> int | None:
        """The index of the secret key ``stored`` was made with (0: the current one), or None."""
        for index in range(len(self._keys)):
            if hmac.compare_digest(self.digest(secret, index), stored):  # constant time: no timing oracle
                return index
        return None


def parse_api_key(plain: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None.

    >>> parse_api_key("plait_0123456789ab_c2VjcmV0"), parse_api_key("nope")
    (('0123456789ab', 'c2VjcmV0'), None)
    """
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != "plait" or len(parts[1]) != _PREFIX_HEX or not parts[2] or len(plain) > 200:
        return None
    return parts[1], parts[2]


def has_scopes(key: APIKey, wanted: Sequence[str]) -> bool:
    """Whether ``key`` grants every scope in ``wanted`` (``"*"`` grants all).

    >>> key = APIKey(scopes=["articles:read"])
    >>> has_scopes(key, ["articles:read"]), has_scopes(key, ["articles:write"]), has_scopes(key, [])
    (True, False, True)
    """
    granted = set(key.scopes or ())
    return ALL_SCOPES in granted or granted.issuperset(wanted)


async def create_api_key(
    db: AsyncSession,
    user: Any,
    hasher: KeyHasher,
    *,
    name: str = "",
    scopes: Sequence[str] = (),
    expires_in: timedelta | None = None,
) -> tuple[APIKey, str]:
    """Store a new key for ``user`` (flushed) and return it with its plain text, which is not kept anywhere."""
    if not isinstance(user, User):
        raise ConfigurationError(
            f"API keys belong to plait.auth.User accounts (the auth_user table), not to {type(user).__name__}: "
            "to use them, make the user model a subclass of User instead of a replacement."
        )
    prefix = secrets.token_hex(_PREFIX_HEX // 2)
    secret = secrets.token_urlsafe(32)
    key = APIKey(
        user_id=user.id,
        name=name,
        prefix=prefix,
        key_hash=hasher.digest(secret),
        scopes=list(scopes),
        expires_at=utcnow() + expires_in if expires_in is not None else None,
    )
    db.add(key)
    await db.flush()
    return key, f"plait_{prefix}_{secret}"


async def authenticate_api_key(db: AsyncSession, plain: str, hasher: KeyHasher) -> APIKey | None:
    """The live key ``plain`` is (not revoked, not expired), else None; records when it was used."""
    parsed = parse_api_key(plain)
    if parsed is None:
        return None
    prefix, secret = parsed
    key = (await db.execute(select(APIKey).where(APIKey.prefix == prefix))).scalars().first()
    if key is None:
        return None
    index = hasher.match(secret, key.key_hash)
    now = utcnow()
    if index is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if index:  # made with an older secret key: move it to the current one while we know the secret
        key.key_hash = hasher.digest(secret)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    if index or db.dirty:
        await db.flush()  # committed with the request's session, before the response
    return key


async def revoke_api_key(db: AsyncSession, prefix: str, *, user_id: int | None = None) -> bool:
    """Revoke the key with ``prefix`` (only if it belongs to ``user_id``, when given); False if none matched."""
    query = select(APIKey).where(APIKey.prefix == prefix, APIKey.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(APIKey.user_id == user_id)
    key = (await db.execute(query)).scalars().first()
    if key is None:
        return False
    key.revoked_at = utcnow()
    await db.flush()
    return True


async def list_api_keys(db: AsyncSession, *, user_id: int | None = None) -> list[APIKey]:
    """Every key (of ``user_id``, when given), oldest first; the hashes are in there, the secrets are not."""
    query = select(APIKey).order_by(APIKey.id)
    if user_id is not None:
        query = query.where(APIKey.user_id == user_id)
    return list((await db.execute(query)).scalars())


def is_live(key: APIKey, now: datetime | None = None) -> bool:
    """Not revoked and not expired."""
    now = now or utcnow()
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


# -- plait apikeys ----------------------------------------------------------------------------------


def apikeys_group() -> click.Group:
    """``plait apikeys create|list|revoke``, offered by ``Auth.commands()``.

    ::

        plait apikeys create ada --name "deploy bot" --scope articles:write --expires-days 90
        plait apikeys list ada
        plait apikeys revoke 1a2b3c4d5e6f
    """
    import click

    @click.group("apikeys")
    def group() -> None:
        """Create, list and revoke API keys (sent in the X-API-Key header)."""

    @group.command("create")
    @click.argument("user")
    @click.option("--name", default="", help="What the key is for (shown in listings).")
    @click.option("--scope", "scopes", multiple=True, help="A scope the key grants (repeat it; '*' is all).")
    @click.option("--expires-days", type=click.IntRange(min=1), default=None, help="Days until the key expires.")
    @click.pass_obj
    def create(app: Any, user: str, name: str, scopes: tuple[str, ...], expires_days: int | None) -> None:
        """Make a key for USER (username or email) and print it, once."""

        async def action(db: AsyncSession, hasher: KeyHasher) -> str:
            owner = await _user(app, db, user)
            expires = timedelta(days=expires_days) if expires_days else None
            _, plain = await create_api_key(db, owner, hasher, name=name, scopes=scopes, expires_in=expires)
            return plain

        plain = _run(app, action)
        click.echo(plain)
        click.echo("Keep it now: Plait stores only its hash and cannot show it again.", err=True)

    @group.command("list")
    @click.argument("user", required=False)
    @click.pass_obj
    def list_(app: Any, user: str | None) -> None:
        """List the keys (of USER, when given): prefix, owner, name, scopes, last use, state."""

        async def action(db: AsyncSession, hasher: KeyHasher) -> list[APIKey]:
            owner_id = (await _user(app, db, user)).id if user else None
            return await list_api_keys(db, user_id=owner_id)

        for key in _run(app, action):
            state = "live" if is_live(key) else "revoked" if key.revoked_at else "expired"
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
            scopes = ",".join(key.scopes or ()) or "-"
            click.echo(f"{key.prefix}  user={key.user_id}  {key.name or '-'}  scopes={scopes}  used={used}  {state}")

    @group.command("revoke")
    @click.argument("prefix")
    @click.pass_obj
    def revoke(app: Any, prefix: str) -> None:
        """Revoke the key whose public part is PREFIX (the 12 characters after plait_)."""

        async def action(db: AsyncSession, hasher: KeyHasher) -> bool:
            return await revoke_api_key(db, prefix)

        if not _run(app, action):
            raise click.ClickException(f"No live API key has the prefix {prefix!r}; see plait apikeys list.")
        click.echo(f"Revoked {prefix}.")

    return group


async def _user(app: Any, db: AsyncSession, login: str) -> Any:
    import click

    model = app.extensions["auth"].user_model
    query = select(model).where((model.username == login) | (model.email == login.strip().lower()))
    user = (await db.execute(query)).scalars().first()
    if user is None:
        raise click.ClickException(f"No user has the username or email {login!r}.")
    return user


def _run(app: Any, action: Callable[[AsyncSession, KeyHasher], Awaitable[T]]) -> T:
    """Run ``action`` in the running app with a session (committed) and the app's key hasher."""
    import anyio

    async def main() -> T:
        async with app.running():
            hasher = KeyHasher.from_settings(app.settings)
            async with AsyncSession(app.extensions["database"].engine, expire_on_commit=False) as db:
                result = await action(db, hasher)
                await db.commit()
                return result

    return anyio.run(main)

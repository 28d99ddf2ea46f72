"""The protocol every session store follows."""

from __future__ import annotations

import abc
import contextlib
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from plait.app import Plait


def new_key() -> str:
    """A new session id: 256 random bits, URL- and cookie-safe (43 characters).

    >>> len(new_key()), new_key() == new_key()
    (43, False)
    """
    return secrets.token_urlsafe(32)


class SessionStore(abc.ABC):
    """Keeps session data under a key. Subclass it for a store of your own.

    The cookie that names a record is signed by :class:`~plait.sessions.Sessions`, so a store only
    ever receives keys it handed out itself (or, after a secret key leak, keys an attacker could
    forge: a store still treats a missing record as "no session").
    """

    loads_without_io: ClassVar[bool] = False
    """True when :meth:`load_now` can read a key without I/O (the cookie store): the session then
    loads itself on first access instead of needing ``await session.load()``."""

    unavailable: ClassVar[tuple[type[Exception], ...]] = ()
    """Exceptions meaning the store's server cannot be reached: answered with a 503, not a 500."""

    def setup(self, app: Plait[Any]) -> None:  # noqa: B027 - optional hook, empty by default
        """Check the configuration at startup (raise ``ConfigurationError`` naming the fix)."""

    def lifespan(self, app: Plait[Any]) -> contextlib.AbstractAsyncContextManager[Any] | None:
        """Open and close what the store needs (a client, a pool) around the app's life."""
        return None

    @abc.abstractmethod
    async def load(self, key: str) -> dict[str, Any] | None:
        """The data saved under ``key``, or None when there is none (unknown or expired)."""

    @abc.abstractmethod
    async def save(self, key: str | None, data: dict[str, Any], max_age: int) -> str:
        """Save ``data`` for ``max_age`` seconds under ``key`` (a new key when None); return the key."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it does not exist)."""

    def load_now(self, key: str) -> dict[str, Any] | None:
        """:meth:`load` without I/O, for stores whose ``loads_without_io`` is True."""
        raise NotImplementedError(f"{type(self).__name__} needs I/O to load a session; await load() instead.")

    async def clear_expired(self) -> int | None:
        """Delete expired records and return how many; None when the store expires them by itself."""
        return None

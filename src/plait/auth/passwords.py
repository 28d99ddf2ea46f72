"""Password hashing with argon2id: hash, verify (re-hashing when the parameters changed), and a length cap.

::

    from plait.auth.passwords import Argon2Hasher

    hasher = Argon2Hasher()
    stored = hasher.hash("correct horse battery staple")
    hasher.verify(stored, "correct horse battery staple")      # True
    hasher.needs_rehash(stored)                                # False until the costs are raised

Hashing and verifying cost tens of milliseconds of CPU and 64 MiB on purpose: async code runs them
in a worker thread (:func:`check_password` does). A login for an unknown or inactive account runs
:meth:`Argon2Hasher.dummy_verify`, the same work as a real check, so that the response time does not
tell whether an account exists.
"""

from __future__ import annotations

import threading

import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from plait.auth.settings import AuthSettings

__all__ = [
    "Argon2Hasher",
    "PasswordTooLong",
    "check_password",
    "default_hasher",
    "hash_password",
    "verify_password",
]


class PasswordTooLong(ValueError):
    """A password longer than the cap (``PLAIT_AUTH_PASSWORD_MAX_BYTES``): refused before any hashing."""


class Argon2Hasher:
    """argon2id with the given costs; the defaults are argon2-cffi's (RFC 9106, low-memory profile).

    ``max_bytes`` caps the UTF-8 length of a password: anything longer raises :class:`PasswordTooLong`
    instead of being hashed, so a client cannot make the server hash megabytes.

    >>> hasher = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
    >>> stored = hasher.hash("s3cret-enough")
    >>> stored.startswith("$argon2id$"), hasher.verify(stored, "s3cret-enough"), hasher.verify(stored, "nope")
    (True, True, False)
    >>> Argon2Hasher(time_cost=2, memory_cost=8, parallelism=1).needs_rehash(stored)
    True
    """

    def __init__(
        self, *, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4, max_bytes: int = 4096
    ) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self.max_bytes = max_bytes
        self._dummy: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Argon2Hasher:
        """The hasher the ``PLAIT_AUTH_ARGON2_*`` and ``PLAIT_AUTH_PASSWORD_MAX_BYTES`` settings describe."""
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            max_bytes=settings.password_max_bytes,
        )

    def check_length(self, password: str) -> None:
        """Raise :class:`PasswordTooLong` when ``password`` is over the cap."""
        size = len(password.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            raise PasswordTooLong(f"The password is {size} bytes long; at most {self.max_bytes} bytes are accepted.")

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password`` (a fresh random salt each time)."""
        self.check_length(password)
        return self._argon2.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        """True when ``password`` matches ``hashed``; False on a mismatch or a hash that is not argon2."""
        self.check_length(password)
        try:
            return self._argon2.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """True when ``hashed`` was made with other parameters than this hasher's (then store a new hash)."""
        try:
            return self._argon2.check_needs_rehash(hashed)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> None:
        """Do the work of one :meth:`verify` against a throwaway hash: for unknown or inactive accounts."""
        self.verify(self._dummy_hash(), password)

    def _dummy_hash(self) -> str:
        with self._lock:
            if self._dummy is None:
                # Made once, with this hasher's own costs, so a dummy check costs what a real one does.
                self._dummy = self._argon2.hash("plait dummy password, never matches a login")
            return self._dummy


_default: Argon2Hasher | None = None


def default_hasher() -> Argon2Hasher:
    """The hasher with argon2-cffi's default costs, used where no ``Auth`` hasher is at hand.

    >>> default_hasher() is default_hasher()
    True
    """
    global _default
    if _default is None:
        _default = Argon2Hasher()
    return _default


def hash_password(password: str, hasher: Argon2Hasher | None = None) -> str:
    """Hash ``password`` (CPU-heavy: call it in a thread from async code)."""
    return (hasher or default_hasher()).hash(password)


def verify_password(hashed: str, password: str, hasher: Argon2Hasher | None = None) -> tuple[bool, str | None]:
    """``(matches, new_hash)``: ``new_hash`` is set when it matched and the stored hash is outdated.

    >>> hasher = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
    >>> verify_password(hasher.hash("pw-1234567"), "pw-1234567", hasher)
    (True, None)
    """
    hasher = hasher or default_hasher()
    if not hasher.verify(hashed, password):
        return False, None
    return True, hasher.hash(password) if hasher.needs_rehash(hashed) else None


async def check_password(
    hashed: str | None, password: str, hasher: Argon2Hasher | None = None
) -> tuple[bool, str | None]:
    """:func:`verify_password` in a worker thread; ``hashed=None`` (no such user) does a dummy check.

    Either way exactly one argon2 verification runs, so a missing account costs the same time as a
    wrong password.
    """
    hasher = hasher or default_hasher()
    if not hashed:
        await anyio.to_thread.run_sync(hasher.dummy_verify, password)
        return False, None
    return await anyio.to_thread.run_sync(verify_password, hashed, password, hasher)

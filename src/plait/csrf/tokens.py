"""CSRF secrets and masked tokens, as pure functions.

The secret is 32 random bytes kept server-side (in the session) or in a signed cookie. A page never
shows the secret itself: each token is ``mask + (secret XOR mask)`` under a fresh random mask, so
the token differs on every response while always unmasking to the same secret. A compression
side channel (BREACH) recovers a string that repeats across responses byte by byte; a value that
is new each time gives it nothing to converge on.

>>> secret = new_secret()
>>> first, second = mask(secret), mask(secret)
>>> first != second and matches(first, secret) and matches(second, secret)
True
>>> matches(mask(new_secret()), secret)
False
"""

from __future__ import annotations

import hmac
import secrets

from plait.signing import BadSignature, b64decode, b64encode

__all__ = ["SECRET_BYTES", "mask", "matches", "new_secret", "unmask"]

SECRET_BYTES = 32


def new_secret() -> str:
    """A new secret: 32 random bytes, URL-safe base64 (43 characters)."""
    return b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _xor(data: bytes, key: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, key, strict=True))


def mask(secret: str) -> str:
    """A token for ``secret`` under a fresh random mask (86 URL-safe characters)."""
    raw = b64decode(secret.encode("ascii"))
    pad = secrets.token_bytes(len(raw))
    return b64encode(pad + _xor(raw, pad)).decode("ascii")


def unmask(token: str) -> bytes | None:
    """The secret a token carries, or None when the token is malformed.

    >>> unmask("not a token") is None
    True
    """
    try:
        raw = b64decode(token.encode("ascii"))
    except (BadSignature, UnicodeEncodeError):
        return None
    if len(raw) != 2 * SECRET_BYTES:
        return None
    return _xor(raw[SECRET_BYTES:], raw[:SECRET_BYTES])


def matches(token: str, secret: str) -> bool:
    """True when ``token`` was made by :func:`mask` from ``secret`` (compared in constant time)."""
    carried = unmask(token)
    if carried is None:
        return False
    try:
        expected = b64decode(secret.encode("ascii"))
    except (BadSignature, UnicodeEncodeError):
        return False
    return hmac.compare_digest(carried, expected)

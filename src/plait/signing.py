"""Signed, timestamped values: what sessions, CSRF tokens and password-reset links are made of.

A :class:`Signer` signs with the first of its keys and accepts a signature made with any of them,
so a secret key is rotated by moving the old one to ``PLAIT_SECRET_KEY_FALLBACKS``. Each use has
its own ``salt``: a token signed for one purpose (a session cookie) is refused for another (a
password reset), even under the same secret key.

>>> signer = Signer(["new-key", "old-key"], salt="example")
>>> token = signer.dumps({"user": 1})
>>> signer.loads(token)
{'user': 1}
>>> Signer(["old-key"], salt="example").loads(Signer(["old-key"], salt="example").dumps(7)) == 7
True
>>> signer.loads(token + "x")
Traceback (most recent call last):
  ...
plait.signing.BadSignature: The signature does not match: the value was altered or signed with another key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

import msgspec

from plait.exceptions import ConfigurationError
from plait.settings import Settings

__all__ = ["BadSignature", "SignatureExpired", "Signer", "b64decode", "b64encode"]

_SEP = b"."


class BadSignature(Exception):
    """The value was altered, is malformed, or was signed with a key (or salt) this signer does not know."""


class SignatureExpired(BadSignature):
    """The signature is valid but older than the ``max_age`` asked for."""

    def __init__(self, message: str, *, age: float) -> None:
        super().__init__(message)
        self.age = age


def b64encode(data: bytes) -> bytes:
    """URL-safe base64 without padding (cookie- and URL-safe)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64decode(data: bytes) -> bytes:
    """Inverse of :func:`b64encode`; raises :class:`BadSignature` on malformed input."""
    try:
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("The value is not valid base64.") from exc


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


class Signer:
    """HMAC-SHA256 signatures with a timestamp, over one or more secret keys.

    ``keys[0]`` signs; every key verifies. The HMAC key is derived from the secret and the
    ``salt``, so the same secret never signs two purposes alike.
    """

    def __init__(self, keys: Sequence[str | bytes], *, salt: str) -> None:
        secrets = [_bytes(key) for key in keys if key]
        if not secrets:
            raise ConfigurationError(
                "Signing needs a secret key and none is set. Set PLAIT_SECRET_KEY to a long random value "
                '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))").'
            )
        self.salt = salt
        self._keys = [hashlib.sha256(b"plait.signing\x00" + salt.encode() + b"\x00" + key).digest() for key in secrets]

    @classmethod
    def from_settings(cls, settings: Settings, *, salt: str) -> Signer:
        """A signer over ``settings.secret_key`` then ``settings.secret_key_fallbacks``."""
        return cls([settings.secret_key, *settings.secret_key_fallbacks], salt=salt)

    def _mac(self, key: bytes, data: bytes) -> bytes:
        return b64encode(hmac.new(key, data, hashlib.sha256).digest())

    def sign(self, value: str | bytes, *, timestamp: float | None = None) -> str:
        """``value.timestamp.signature`` (``value`` must not need escaping in a cookie: use :meth:`dumps`)."""
        stamp = int(time.time() if timestamp is None else timestamp)
        data = _bytes(value) + _SEP + str(stamp).encode()
        return (data + _SEP + self._mac(self._keys[0], data)).decode()

    def unsign(self, token: str | bytes, *, max_age: float | None = None) -> bytes:
        """The signed value; :class:`BadSignature` if altered, :class:`SignatureExpired` if older than ``max_age``."""
        raw = _bytes(token)
        data, sep, signature = raw.rpartition(_SEP)
        value, sep2, stamp = data.rpartition(_SEP)
        if not sep or not sep2 or not stamp.isdigit():
            raise BadSignature("The value is not a signed token.")
        # Every key is tried, and compared in constant time, so timing says nothing about which matched.
        matches = [hmac.compare_digest(self._mac(key, data), signature) for key in self._keys]
        if not any(matches):
            raise BadSignature("The signature does not match: the value was altered or signed with another key.")
        if max_age is not None:
            age = time.time() - int(stamp)
            if age > max_age:
                raise SignatureExpired(
                    f"The signature is {age:.0f} s old, more than the {max_age:.0f} s allowed.", age=age
                )
        return value

    def dumps(self, obj: Any) -> str:
        """Sign any msgspec-encodable value as a compact, URL- and cookie-safe string."""
        return self.sign(b64encode(msgspec.json.encode(obj)))

    def loads(self, token: str | bytes, *, max_age: float | None = None, type: Any = Any) -> Any:
        """The value :meth:`dumps` signed, decoded as ``type``; :class:`BadSignature` on any problem."""
        payload = self.unsign(token, max_age=max_age)
        try:
            return msgspec.json.decode(b64decode(payload), type=type)
        except msgspec.DecodeError as exc:
            raise BadSignature(f"The signed value does not decode: {exc}") from exc

"""Password validators: length, the most common passwords, similarity to the username or email.

A validator is a callable ``(password, attributes) -> message | None``; ``attributes`` maps user
fields (``username``, ``email``) to their values. :func:`validate_password` runs them all and raises
:class:`PasswordValidationError` with every message::

    from plait.auth.validators import MinimumLength, validate_password

    validate_password("hunter2", {"username": "ada"}, [MinimumLength(12)])   # raises: too short

The common-password list ships with Plait (``common-passwords.txt.gz``): the 5,000 most frequent
entries, lower-cased, of the list the Django package on PyPI ships in
``django/contrib/auth/common-passwords.txt.gz`` (BSD-3-Clause, Copyright (c) Django Software
Foundation and individual contributors; Django credits Royce Williams' list of common passwords).
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from importlib import resources

from plait.auth.settings import AuthSettings

__all__ = [
    "CommonPassword",
    "MaximumBytes",
    "MinimumLength",
    "NotNumeric",
    "PasswordValidationError",
    "UserAttributeSimilarity",
    "Validator",
    "common_passwords",
    "default_validators",
    "validate_password",
]

Validator = Callable[[str, Mapping[str, str]], "str | None"]
"""``(password, user attributes) -> a message saying what is wrong, or None``."""


class PasswordValidationError(ValueError):
    """The password broke one or more rules; ``messages`` says which (shown to the user as they are)."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


class MinimumLength:
    """At least ``length`` characters.

    >>> MinimumLength(8)("short", {})
    'The password is too short: use at least 8 characters.'
    """

    def __init__(self, length: int = 8) -> None:
        self.length = length

    def __call__(self, password: str, attributes: Mapping[str, str]) -> str | None:
        if len(password) < self.length:
            return f"The password is too short: use at least {self.length} characters."
        return None


class MaximumBytes:
    """At most ``size`` bytes in UTF-8 (hashing megabytes would be a cheap denial of service).

    >>> MaximumBytes(16)("x" * 17, {})
    'The password is too long: at most 16 bytes are accepted.'
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size

    def __call__(self, password: str, attributes: Mapping[str, str]) -> str | None:
        if len(password.encode("utf-8", "surrogatepass")) > self.size:
            return f"The password is too long: at most {self.size} bytes are accepted."
        return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once).

    >>> "password1" in common_passwords(), len(common_passwords())
    (True, 5000)
    """
    data = resources.files("plait.auth").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


class CommonPassword:
    """Not one of the common passwords (compared lower-cased, so ``Password1`` counts too).

    >>> CommonPassword()("Qwerty123", {})
    'The password is too common: attackers try it first.'
    """

    def __init__(self, passwords: Iterable[str] | None = None) -> None:
        self._passwords = None if passwords is None else frozenset(p.lower() for p in passwords)

    def __call__(self, password: str, attributes: Mapping[str, str]) -> str | None:
        known = self._passwords if self._passwords is not None else common_passwords()
        if password.strip().lower() in known:
            return "The password is too common: attackers try it first."
        return None


class NotNumeric:
    """Not digits only.

    >>> NotNumeric()("20240101", {})
    'The password is only digits: add letters or symbols.'
    """

    def __call__(self, password: str, attributes: Mapping[str, str]) -> str | None:
        return "The password is only digits: add letters or symbols." if password.isdigit() else None


class UserAttributeSimilarity:
    """Not too similar to the username, the email or its parts (``ada.lovelace@`` → ``ada``, ``lovelace``).

    >>> UserAttributeSimilarity()("ada.lovelace!", {"email": "ada.lovelace@example.com"})
    'The password is too similar to the email.'
    >>> UserAttributeSimilarity()("a very different phrase", {"username": "ada"}) is None
    True
    """

    def __init__(self, attributes: Sequence[str] = ("username", "email"), max_similarity: float = 0.7) -> None:
        self.attributes = tuple(attributes)
        self.max_similarity = max_similarity

    def __call__(self, password: str, attributes: Mapping[str, str]) -> str | None:
        if self.max_similarity >= 1:
            return None
        lowered = password.lower()
        for name in self.attributes:
            value = (attributes.get(name) or "").lower()
            if not value:
                continue
            # The whole value, the part before the @, and each word of it: "lovelace1" is as weak as "ada.lovelace".
            parts = {value, value.partition("@")[0], *re.split(r"\W+", value.partition("@")[0])}
            for part in parts:
                # A long part inside the password ("lovelace1") or a password close to it ("ad4.lovelace").
                contained = len(part) >= 4 and part in lowered
                if contained or (len(part) >= 3 and SequenceMatcher(a=lowered, b=part).ratio() >= self.max_similarity):
                    return f"The password is too similar to the {name.replace('_', ' ')}."
        return None


def default_validators(settings: AuthSettings | None = None) -> list[Validator]:
    """The validators the ``PLAIT_AUTH_PASSWORD_*`` settings ask for.

    >>> [type(v).__name__ for v in default_validators()]
    ['MaximumBytes', 'MinimumLength', 'CommonPassword', 'NotNumeric', 'UserAttributeSimilarity']
    """
    settings = settings or AuthSettings()
    validators: list[Validator] = [
        MaximumBytes(settings.password_max_bytes),
        MinimumLength(settings.password_min_length),
    ]
    if settings.password_common:
        validators.append(CommonPassword())
    validators.append(NotNumeric())
    validators.append(UserAttributeSimilarity(max_similarity=settings.password_similarity))
    return validators


def validate_password(
    password: str, attributes: Mapping[str, str] | None = None, validators: Sequence[Validator] | None = None
) -> None:
    """Run every validator; raise :class:`PasswordValidationError` listing all that failed.

    >>> validate_password("correct horse battery staple", {"username": "ada"})
    >>> try:
    ...     validate_password("1234", {})
    ... except PasswordValidationError as exc:
    ...     exc.messages[0]
    'The password is too short: use at least 8 characters.'
    """
    attributes = attributes or {}
    checks = default_validators() if validators is None else validators
    messages = [message for check in checks if (message := check(password, attributes)) is not None]
    if messages:
        raise PasswordValidationError(messages)

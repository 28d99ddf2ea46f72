"""JSON Web Tokens for API clients: short-lived access tokens and longer-lived refresh tokens.

A :class:`TokenCodec` signs and checks tokens with **one** algorithm chosen by configuration
(``PLAIT_AUTH_JWT_ALGORITHM``, HS256 by default). The algorithm written in a token's header is never
trusted: a token saying ``alg: none``, or HS256 where the app expects RS256 (the "public key used
as an HMAC secret" trick), is refused before any signature is computed. Every token must carry
``exp``, ``nbf``, ``iat``, ``sub`` and ``kind``; ``aud`` and ``iss`` are checked when configured (and
refused when present but not configured); tokens over ``max_length`` are not parsed at all.

>>> codec = TokenCodec.hmac("an app secret key that nobody else knows")
>>> token = codec.access_token(7)
>>> codec.decode(token)["sub"]
'7'
>>> codec.decode(codec.refresh_token(7), kind="access")
Traceback (most recent call last):
...
plait.auth.jwt.InvalidToken: This is a refresh token; send an access token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jwt as pyjwt
import msgspec
from jwt.algorithms import get_default_algorithms

from plait.exceptions import ConfigurationError

__all__ = ["InvalidToken", "TokenCodec", "TokenKind", "TokenPair"]

TokenKind = Literal["access", "refresh"]

_HMAC = frozenset({"HS256", "HS384", "HS512"})
_ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
_REQUIRED = ["exp", "nbf", "iat", "sub", "kind"]
_DERIVATION = b"plait.auth.jwt"


class InvalidToken(Exception):
    """A token was refused; the message says why (safe to show the client: it names no secret)."""


class TokenPair(msgspec.Struct, kw_only=True):
    """What the token endpoints answer (the OAuth2 token response shape, RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    refresh_token: str | None = None


def derive_hmac_key(secret_key: str) -> bytes:
    """The HMAC key for tokens, derived from the app's secret key.

    Deriving (rather than using the secret key as it is) keeps purposes apart: a JWT signature can
    never be replayed as a session or CSRF signature made with the same secret key, and the key is
    always 64 bytes, long enough for HS512.

    >>> len(derive_hmac_key("secret")), derive_hmac_key("a") != derive_hmac_key("b")
    (64, True)
    """
    return hmac.new(secret_key.encode(), _DERIVATION, hashlib.sha512).digest()


@dataclass(frozen=True, slots=True)
class TokenCodec:
    """Issues and checks tokens; build one with :meth:`hmac`, :meth:`from_keys` or :meth:`from_settings`.

    ``signing_key`` may be None (an app that only checks tokens another service issues);
    ``verifying_keys`` are tried in order (key rotation: new key first, the old ones after).
    """

    algorithm: str
    signing_key: Any
    verifying_keys: Sequence[Any]
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=14)
    audience: str | None = None
    issuer: str | None = None
    leeway: timedelta = timedelta(0)
    max_length: int = 8192

    def __post_init__(self) -> None:
        if self.algorithm not in _HMAC | _ASYMMETRIC:
            allowed = ", ".join(sorted(_HMAC | _ASYMMETRIC))
            raise ConfigurationError(
                f"PLAIT_AUTH_JWT_ALGORITHM={self.algorithm!r} is not allowed; choose one of {allowed} "
                "('none' never is: an unsigned token proves nothing)."
            )
        if not self.verifying_keys:
            raise ConfigurationError("A TokenCodec needs at least one verifying key.")

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def hmac(cls, *secret_keys: str, algorithm: str = "HS256", **options: Any) -> TokenCodec:
        """A codec signing with a key derived from ``secret_keys[0]`` and accepting all of them."""
        if algorithm not in _HMAC or not secret_keys or not all(secret_keys):
            raise ConfigurationError(
                f"TokenCodec.hmac() needs a non-empty secret key and an HMAC algorithm ({', '.join(sorted(_HMAC))}); "
                "set PLAIT_SECRET_KEY (or PLAIT_AUTH_JWT_SECRET)."
            )
        keys = [derive_hmac_key(key) for key in secret_keys]
        return cls(algorithm, keys[0], keys, **options)

    @classmethod
    def from_keys(
        cls, algorithm: str, *, private_key: str | None, public_key: str | None, **options: Any
    ) -> TokenCodec:
        """A codec for RS*/PS*/ES*/EdDSA; each key is PEM text or the path of a PEM file.

        With no private key the codec only checks tokens (another service issues them).
        """
        if algorithm not in _ASYMMETRIC:
            raise ConfigurationError(
                f"Key files are for asymmetric algorithms ({', '.join(sorted(_ASYMMETRIC))}), not {algorithm!r}."
            )
        if not public_key:
            raise ConfigurationError(
                f"PLAIT_AUTH_JWT_ALGORITHM={algorithm} needs PLAIT_AUTH_JWT_PUBLIC_KEY_FILE (a PEM public key) and, "
                "to issue tokens, PLAIT_AUTH_JWT_PRIVATE_KEY_FILE."
            )
        private = _load_key(algorithm, private_key) if private_key else None
        return cls(algorithm, private, [_load_key(algorithm, public_key)], **options)

    @classmethod
    def from_settings(cls, settings: Any, secret_keys: Sequence[str]) -> TokenCodec:
        """A codec from :class:`~plait.auth.settings.AuthSettings` and the app's secret keys (newest first)."""
        options: dict[str, Any] = {
            "access_ttl": timedelta(seconds=settings.jwt_access_ttl),
            "refresh_ttl": timedelta(seconds=settings.jwt_refresh_ttl),
            "audience": settings.jwt_audience,
            "issuer": settings.jwt_issuer,
            "leeway": timedelta(seconds=settings.jwt_leeway),
            "max_length": settings.jwt_max_length,
        }
        algorithm = settings.jwt_algorithm
        if algorithm in _HMAC:
            dedicated = settings.jwt_secret
            keys = [dedicated] if dedicated else [key for key in secret_keys if key]
            return cls.hmac(*keys, algorithm=algorithm, **options)
        return cls.from_keys(
            algorithm,
            private_key=settings.jwt_private_key_file,
            public_key=settings.jwt_public_key_file,
            **options,
        )

    @classmethod
    def from_auth(cls, auth: Any, app: Any) -> TokenCodec:
        """The codec of an installed ``Auth`` extension: its settings and ``app``'s secret keys."""
        settings = getattr(app, "settings", None)
        keys = [settings.secret_key, *settings.secret_key_fallbacks] if settings is not None else []
        return cls.from_settings(auth.settings, keys)

    # -- issuing ------------------------------------------------------------------------------------

    def issue(
        self,
        subject: str | int,
        kind: TokenKind = "access",
        *,
        ttl: timedelta | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token for ``subject`` (a user id); ``claims`` are added (they cannot replace the standard ones)."""
        if self.signing_key is None:
            raise ConfigurationError(
                "This app only checks tokens (no private key): set PLAIT_AUTH_JWT_PRIVATE_KEY_FILE to issue them."
            )
        now = datetime.now(UTC)
        payload: dict[str, Any] = dict(claims or {})
        payload.update(
            sub=str(subject),
            kind=kind,
            iat=now,
            nbf=now,
            exp=now + (ttl if ttl is not None else self.access_ttl if kind == "access" else self.refresh_ttl),
            jti=secrets.token_urlsafe(12),  # tells two tokens issued in the same second apart
        )
        if self.audience is not None:
            payload["aud"] = self.audience
        if self.issuer is not None:
            payload["iss"] = self.issuer
        return pyjwt.encode(payload, self.signing_key, algorithm=self.algorithm)

    def access_token(self, subject: str | int, **claims: Any) -> str:
        return self.issue(subject, "access", claims=claims)

    def refresh_token(self, subject: str | int, **claims: Any) -> str:
        return self.issue(subject, "refresh", claims=claims)

    def pair(self, subject: str | int, **claims: Any) -> TokenPair:
        """An access token and a refresh token, in the OAuth2 token response shape."""
        return TokenPair(
            access_token=self.access_token(subject, **claims),
            expires_in=int(self.access_ttl.total_seconds()),
            refresh_token=self.refresh_token(subject, **claims),
        )

    # -- checking -----------------------------------------------------------------------------------

    def decode(self, token: str, *, kind: TokenKind = "access") -> dict[str, Any]:
        """The claims of a valid token of ``kind``; raises :class:`InvalidToken` saying why not."""
        if len(token) > self.max_length:
            # Refused before parsing: a huge token costs base64 and JSON work for nothing.
            raise InvalidToken(f"The token is longer than {self.max_length} characters.")
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError:
            raise InvalidToken("The token is malformed.") from None
        if header.get("alg") != self.algorithm:
            # The header is the attacker's to write: only the configured algorithm is ever used, so
            # neither "none" nor HS256-signed-with-our-public-key gets as far as a signature check.
            raise InvalidToken(f"The token is not signed with {self.algorithm}.")
        claims = self._verified(token)
        if claims.get("kind") != kind:
            # Refresh tokens live for weeks: one must never be accepted where an access token is expected.
            raise InvalidToken(f"This is {'a refresh' if kind == 'access' else 'an access'} token; send {_an(kind)}.")
        return claims

    def _verified(self, token: str) -> dict[str, Any]:
        error: pyjwt.PyJWTError | None = None
        for key in self.verifying_keys:
            try:
                claims: dict[str, Any] = pyjwt.decode(
                    token,
                    key,
                    algorithms=[self.algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options={"require": _REQUIRED},
                )
            except pyjwt.InvalidSignatureError as exc:  # maybe signed with an older key: try the next
                error = exc
                continue
            except pyjwt.PyJWTError as exc:
                raise InvalidToken(_reason(exc)) from None
            return claims
        raise InvalidToken(_reason(error)) from None


def _an(kind: str) -> str:
    return f"{'an' if kind == 'access' else 'a'} {kind} token"


def _reason(exc: pyjwt.PyJWTError | None) -> str:
    """A short, client-safe reason for a refused token."""
    if isinstance(exc, pyjwt.ExpiredSignatureError):
        return "The token has expired; get a new one (POST the refresh token to the refresh endpoint)."
    if isinstance(exc, pyjwt.ImmatureSignatureError):
        return "The token is not valid yet (nbf/iat in the future)."
    if isinstance(exc, pyjwt.InvalidAudienceError):
        return "The token is meant for another audience."
    if isinstance(exc, pyjwt.InvalidIssuerError):
        return "The token was issued by someone else."
    if isinstance(exc, pyjwt.MissingRequiredClaimError):
        return f"The token lacks the {exc.claim!r} claim."
    if isinstance(exc, pyjwt.InvalidSignatureError):
        return "The token's signature does not match."
    return "The token is malformed."


def _load_key(algorithm: str, key: str) -> Any:
    """A PEM key (text, or a file path) parsed once, at startup, so a wrong key fails then, not per request."""
    if key.lstrip().startswith("-----BEGIN"):
        data = key.encode()
    else:
        try:
            data = Path(key).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the JWT key file {key!r}: {exc.strerror}.") from None
    try:
        return get_default_algorithms()[algorithm].prepare_key(data)
    except (pyjwt.InvalidKeyError, ValueError, TypeError) as exc:
        # Never echo PEM text: the message ends up in logs, and the text may be a private key.
        shown = "given as PEM text" if key.lstrip().startswith("-----BEGIN") else repr(key)
        raise ConfigurationError(f"The JWT key ({shown}) is not a PEM key usable with {algorithm}: {exc}.") from None

"""The auth settings, read from ``PLAIT_AUTH_*`` variables (``Auth(settings=...)`` overrides them).

``PLAIT_AUTH_PASSWORD_MIN_LENGTH=12`` fills ``password_min_length``: the prefix is ``PLAIT_AUTH_``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class AuthSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Password rules, hashing cost, login throttling and tokens; each field is a ``PLAIT_`` variable.

    >>> AuthSettings().password_min_length, AuthSettings().throttle_account_limit
    (8, 10)
    """

    # Passwords
    password_min_length: Annotated[int, msgspec.Meta(ge=0)] = 8
    """Shortest password accepted (``PLAIT_AUTH_PASSWORD_MIN_LENGTH``)."""
    password_max_bytes: Annotated[int, msgspec.Meta(ge=16, le=65536)] = 4096
    """Longest password accepted, in UTF-8 bytes: longer is a 422, never megabytes handed to the hasher."""
    password_common: bool = True
    """Refuse the passwords in Plait's list of the most common ones."""
    password_similarity: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.7
    """Refuse a password this similar (0..1) to the username or email; 1 turns the check off."""
    argon2_time_cost: Positive = 3
    """argon2id iterations; raising the costs makes existing hashes re-hash at the next login."""
    argon2_memory_cost: Annotated[int, msgspec.Meta(ge=8)] = 65536
    """argon2id memory in KiB (64 MiB by default, RFC 9106's second recommendation)."""
    argon2_parallelism: Positive = 4
    """argon2id lanes."""
    # Login throttling
    throttle_account_limit: Positive = 10
    """Failed logins allowed per account within the window before 429."""
    throttle_ip_limit: Positive = 50
    """Failed logins allowed per client address within the window before 429."""
    throttle_window: Seconds = 900.0
    """The throttling window in seconds; ``Retry-After`` says when it ends."""
    throttle_redis_url: str = ""
    """Count failures in Redis (``redis://...``) instead of the ``auth_throttle`` table."""
    # Password reset
    reset_max_age: Seconds = 3600.0
    """Seconds a password-reset token stays valid."""
    # Tokens (plait.auth.jwt) and API keys (plait.auth.apikeys)
    jwt_algorithm: str = "HS256"
    """The one algorithm tokens are signed and accepted with (HS256, RS256, ES256, EdDSA, ...)."""
    jwt_secret: str | None = None
    """HMAC secret; unset: derived from ``PLAIT_SECRET_KEY`` (and its fallbacks)."""
    jwt_private_key_file: str | None = None
    """PEM private key file for asymmetric algorithms (needed to issue tokens)."""
    jwt_public_key_file: str | None = None
    """PEM public key file for asymmetric algorithms."""
    jwt_access_ttl: Seconds = 900.0
    """Access-token lifetime in seconds."""
    jwt_refresh_ttl: Seconds = 14 * 24 * 3600.0
    """Refresh-token lifetime in seconds."""
    jwt_audience: str | None = None
    """``aud`` put in and required on tokens."""
    jwt_issuer: str | None = None
    """``iss`` put in and required on tokens."""
    jwt_leeway: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    """Seconds of clock skew tolerated on ``exp`` and ``nbf``."""
    jwt_max_length: Positive = 8192
    """Longest token accepted, in characters (longer is a 401 without decoding)."""
    api_key_header: str = "X-API-Key"
    """The request header that carries an API key."""
    api_key_query: str | None = "api_key"
    """The query parameter that may carry an API key (unset: header only)."""

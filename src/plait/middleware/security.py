"""Browser security headers on every response, with safe defaults.

::

    app.add_middleware(SecurityHeadersMiddleware, content_security_policy="default-src 'self'")

Each header is added only when the response has not set it already, so one handler can
relax (or tighten) a policy for itself. Pass ``None`` (``False`` for the on/off ones) to leave a header out.

* ``Strict-Transport-Security`` (``hsts``): browsers use only HTTPS for the site from then on.
  Sent on ``https`` responses only (RFC 6797 says browsers ignore it over HTTP); behind a proxy
  that terminates TLS, put :class:`~plait.middleware.ProxyHeadersMiddleware` outside this one.
  ``preload=True`` asks to be built into browsers; it needs ``include_subdomains`` and a
  ``hsts_max_age`` of at least a year, and is hard to undo.
* ``X-Frame-Options`` (``frame_options``): ``"DENY"`` or ``"SAMEORIGIN"``, against clickjacking.
* ``Referrer-Policy`` (``referrer_policy``): how much of the URL other sites learn.
* ``X-Content-Type-Options: nosniff`` (``content_type_nosniff``): no guessing of media types.
* ``Cross-Origin-Opener-Policy`` (``cross_origin_opener_policy``): isolates the window from
  pages it opens or that opened it.
* ``Content-Security-Policy`` (``content_security_policy``): off unless given, because only you
  know which scripts and styles your pages load.
"""

from __future__ import annotations

from plait._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.http.headers import check_header_value
from plait.middleware._headers import with_headers

__all__ = ["SecurityHeadersMiddleware"]

_FRAME_OPTIONS = frozenset({"DENY", "SAMEORIGIN"})
_REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
_OPENER_POLICIES = frozenset({"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"})
_ONE_YEAR = 31536000


def _choice(option: str, value: str | None, allowed: frozenset[str]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        choices = ", ".join(repr(item) for item in sorted(allowed))
        raise ConfigurationError(f"SecurityHeadersMiddleware({option}={value!r}): use one of {choices}, or None.")
    return value


def _hsts(max_age: int, include_subdomains: bool, preload: bool) -> bytes:
    if not isinstance(max_age, int) or max_age < 0:
        raise ConfigurationError(f"SecurityHeadersMiddleware(hsts_max_age={max_age!r}) must be seconds ≥ 0.")
    if preload and (not include_subdomains or max_age < _ONE_YEAR):
        raise ConfigurationError(
            "SecurityHeadersMiddleware(preload=True) needs include_subdomains=True and hsts_max_age of at least "
            f"{_ONE_YEAR} (one year); browsers refuse to preload a weaker policy."
        )
    value = f"max-age={max_age}"
    value += "; includeSubDomains" if include_subdomains else ""
    value += "; preload" if preload else ""
    return value.encode("latin-1")


def _policy(policy: str) -> bytes:
    try:
        return check_header_value("Content-Security-Policy", policy).encode("ascii")
    except ValueError as exc:  # UnicodeEncodeError included
        raise ConfigurationError(
            "SecurityHeadersMiddleware(content_security_policy=...) must be one line of ASCII with no line breaks "
            "(look for pasted curly quotes)."
        ) from exc


class SecurityHeadersMiddleware:
    """Add security headers the response did not set (see the module notes for each one)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool = True,
        hsts_max_age: int = _ONE_YEAR,
        include_subdomains: bool = True,
        preload: bool = False,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        content_type_nosniff: bool = True,
        cross_origin_opener_policy: str | None = "same-origin",
        content_security_policy: str | None = None,
    ) -> None:
        self.app = app
        # PERF: both header blocks are encoded once here; each response only compares names.
        headers: RawHeaders = []
        frame = _choice("frame_options", frame_options, _FRAME_OPTIONS)
        if frame is not None:
            headers.append((b"x-frame-options", frame.encode("latin-1")))
        referrer = _choice("referrer_policy", referrer_policy, _REFERRER_POLICIES)
        if referrer is not None:
            headers.append((b"referrer-policy", referrer.encode("latin-1")))
        if content_type_nosniff:
            headers.append((b"x-content-type-options", b"nosniff"))
        opener = _choice("cross_origin_opener_policy", cross_origin_opener_policy, _OPENER_POLICIES)
        if opener is not None:
            headers.append((b"cross-origin-opener-policy", opener.encode("latin-1")))
        if content_security_policy:
            headers.append((b"content-security-policy", _policy(content_security_policy)))
        self.plain = headers
        hsts_value = _hsts(hsts_max_age, include_subdomains, preload) if hsts else None
        self.secure = [*headers, (b"strict-transport-security", hsts_value)] if hsts_value else headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        block = self.secure if scope.get("scheme") == "https" else self.plain
        if not block:
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", ())}
                message = with_headers(message, [item for item in block if item[0] not in present])
            await send(message)

        await self.app(scope, receive, secured_send)

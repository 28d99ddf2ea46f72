"""Cookie parsing and ``Set-Cookie`` building."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import quote, unquote

from plait.http.headers import TOKEN, check_header_value

_SAFE_VALUE = re.compile(r"[A-Za-z0-9!#$&'()*+\-./:<=>?@\[\]^_`{|}~]*")  # cookie-octets without % , ; "
SameSite = Literal["lax", "strict", "none"]
_SAMESITE: dict[str, SameSite] = {"lax": "lax", "strict": "strict", "none": "none"}


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header leniently, as browsers send it.

    The header arrives decoded as Latin-1 (as every header does); raw UTF-8 in it is read as UTF-8.
    A cookie whose bytes or percent-escapes are not valid UTF-8 is skipped, and the others still read:
    one stray cookie set by another page on the domain must not break every request.

    >>> parse_cookie("a=1; b=hello%20world; c=%FF")
    {'a': '1', 'b': 'hello world'}
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        # PERF: plain ASCII without escapes (ids, tokens) is taken as is.
        if "%" in value or not (value.isascii() and name.isascii()):
            decoded = _decode_cookie(name, value)
            if decoded is None:
                continue
            name, value = decoded
        cookies.setdefault(name, value)
    return cookies


def _decode_cookie(name: str, value: str) -> tuple[str, str] | None:
    try:
        if not (value.isascii() and name.isascii()):
            name = name.encode("latin-1").decode("utf-8")
            value = value.encode("latin-1").decode("utf-8")
        return name, unquote(value, errors="strict")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None


def build_set_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | None = None,
    path: str = "/",
    domain: str | None = None,
    secure: bool = True,
    httponly: bool = True,
    samesite: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    """Build one ``Set-Cookie`` header value with secure defaults (Secure, HttpOnly, SameSite=Lax).

    >>> build_set_cookie("sid", "abc", max_age=60)
    'sid=abc; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Lax'
    """
    if not TOKEN.fullmatch(name):
        raise ValueError(f"Cookie name {name!r} is invalid; use letters, digits, '-' and '_'.")
    if samesite is not None:
        samesite = _check_samesite(samesite)
    if samesite == "none" and not secure:
        raise ValueError("SameSite=None cookies must also be Secure; pass secure=True.")
    # PERF: most values (ids, tokens) need no escaping; quote() only runs for the others.
    parts = [f"{name}={value if _SAFE_VALUE.fullmatch(value) else quote(value, safe='')}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        stamp = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        parts.append(f"Expires={format_datetime(stamp.astimezone(UTC), usegmt=True)}")
    if path:
        parts.append(f"Path={_check_attribute('path', path)}")
    if domain:
        parts.append(f"Domain={_check_attribute('domain', domain)}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite:
        parts.append(f"SameSite={samesite.capitalize()}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


def _check_samesite(samesite: str) -> SameSite:
    checked = _SAMESITE.get(samesite.lower())
    if checked is None:
        raise ValueError(f"samesite={samesite!r} is not valid; pass 'lax', 'strict', 'none' or None.")
    return checked


def _check_attribute(name: str, value: str) -> str:
    """Refuse a ``Path`` or ``Domain`` that would end the attribute early and smuggle in another."""
    if ";" in value:
        raise ValueError(
            f"Cookie {name} {value!r} contains ';', which would inject extra cookie attributes. "
            "Remove the ';' (percent-encode it as %3B in a path)."
        )
    return check_header_value(name, value)

"""Redirect targets built from request data that can only point back at this site."""

from __future__ import annotations

import re

# A run of slashes or backslashes at the start: browsers read "//host", "/\host" and "\\host" as
# another host (backslashes count as slashes in http URLs).
_LEADING_SLASHES = re.compile(r"^[/\\]+")
# Browsers drop tabs and line breaks inside URLs ("/\t/evil.example" becomes "//evil.example") and
# trim control characters and spaces at the ends; escaping them keeps them visible and harmless.
# Characters beyond ASCII are escaped too: a Location header carries bytes, not text.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\xff]")


def same_site_path(target: str) -> str:
    r"""A path-absolute redirect target that every browser resolves on the current site.

    ``target`` is the path (and query) as sent, each character one byte (Latin-1): a raw path.
    Control characters, spaces and bytes beyond ASCII are percent-escaped, and any run of ``/`` or
    ``\`` at the start becomes a single ``/``; a target that does not start with one gets it.
    Percent-escaped slashes (``%2F``) stay as they are: browsers never read them as separators.

    >>> same_site_path("//evil.example/"), same_site_path("/\\evil.example"), same_site_path("/\t/x")
    ('/evil.example/', '/evil.example', '/%09/x')
    >>> same_site_path("http://evil.example/a"), same_site_path("/docs/?q=1")
    ('/http://evil.example/a', '/docs/?q=1')
    """
    # PERF: a plain path (the usual case) passes both scans without a substitution.
    if _UNSAFE.search(target):
        target = _UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", target)
    if target.startswith("/") and target[1:2] not in ("/", "\\"):
        return target
    return "/" + _LEADING_SLASHES.sub("", target)

r"""Redirects, and ``next=`` targets that can only lead back to this site.

A login page that sends the user on to ``?next=...`` afterwards is an open redirect unless the
target is checked: a link to ``https://bank.example/login?next=//evil.example`` would hand the
freshly logged-in user to another site. :func:`safe_next` follows a target only when every
browser would resolve it on this site, and falls back to a default otherwise:

>>> from plait.requests import Request
>>> scope = {"type": "http", "scheme": "https", "server": ("shop.example", 443), "path": "/", "headers": []}
>>> request = Request(scope)
>>> safe_next(request, "/cart?step=2"), safe_next(request, "//evil.example"), safe_next(request, None)
('/cart?step=2', '/', '/')
>>> redirect(safe_next(request, "/cart")).headers["location"]
'/cart'

What is refused, and why (see also :func:`plait.http.urls.same_site_path`, which repairs a
target instead of refusing it):

* anything not starting with a single ``/``: ``//evil`` and ``/\evil`` (browsers read a
  backslash as a slash, so both name another host), ``https:evil`` and ``javascript:...``
  (a scheme), relative paths and the empty string;
* control characters anywhere (tab, line break, NUL, ...): browsers drop tabs and line breaks inside a URL
  (``/\t/evil`` becomes ``//evil``) and a line break could split the ``Location`` header;
* a backslash anywhere, and the same checks again after each round of percent-decoding
  (``/%2F%2Fevil``, ``%2F%2Fevil``, ``/%5Cevil``): a proxy or a second framework that decodes the
  value once more must not find a foreign target inside it either;
* an absolute URL, unless its scheme and host are this request's own (then its path is used).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from plait.requests import HTTPConnection
from plait.responses import RedirectResponse

__all__ = ["redirect", "safe_next"]

# C0 controls and DEL. Spaces and characters beyond ASCII are left alone: browsers percent-encode them
# in the path, where they can never become a separator.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_MAX_DECODING_ROUNDS = 3  # no real link is encoded more deeply than this
_MAX_LENGTH = 2048


def redirect(url: str, status_code: int = 303, headers: Mapping[str, str] | None = None) -> RedirectResponse:
    """A redirect to ``url``; ``303 See Other`` by default, the answer to a form POST (Post/Redirect/Get).

    The browser follows a 303 with a GET, so reloading the next page never re-submits the form. Use 307
    or 308 to keep the method and body. Only pass a target taken from the request through
    :func:`safe_next`.

    >>> response = redirect("/articles/7")
    >>> response.status_code, response.headers["location"]
    (303, '/articles/7')
    """
    if not 300 <= status_code <= 399:
        raise ValueError(
            f"redirect() needs a 3xx status code, not {status_code}; use 303 after a form POST, "
            "307/308 to keep the method, 301/302 only for old links."
        )
    return RedirectResponse(url, status_code=status_code, headers=headers)


def safe_next(request: HTTPConnection, value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site (or this site's own absolute URL), else ``default``.

    ``value`` is usually the ``next`` query parameter or form field. An absolute URL on this request's
    own scheme and host gives its path, query and fragment. ``default`` is trusted as it is.

    >>> from plait.requests import Request
    >>> scope = {"type": "http", "scheme": "https", "server": ("shop.example", 443), "path": "/", "headers": []}
    >>> request = Request(scope)
    >>> [safe_next(request, v) for v in ("/\\\\evil", "https:evil", "javascript:alert(1)", "/%2F%2Fevil")]
    ['/', '/', '/', '/']
    >>> safe_next(request, "https://shop.example/orders?id=3#top"), safe_next(request, "/x", default="/home")
    ('/orders?id=3#top', '/x')
    """
    if not value or not isinstance(value, str) or len(value) > _MAX_LENGTH:
        return default
    target = value if value.startswith("/") else _own_path(request, value)
    return target if target is not None and _stays_on_site(target) else default


def _own_path(request: HTTPConnection, value: str) -> str | None:
    """The path of an absolute URL on this request's own origin; None for anything else."""
    if _UNSAFE.search(value) or "\\" in value:  # checked before parsing: urlsplit drops tabs and newlines
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced "[" in the host
        return None
    here = request.url
    # Compared as written: "https://shop.example@evil.example" has netloc "shop.example@evil.example".
    if parts.scheme.lower() != here.scheme or parts.netloc.lower() != here.netloc.lower():
        return None
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _stays_on_site(target: str) -> bool:
    """Whether ``target``, and every percent-decoding of it, is a plain path-absolute reference."""
    for _ in range(_MAX_DECODING_ROUNDS + 1):
        if not target.startswith("/") or target[1:2] == "/" or "\\" in target or _UNSAFE.search(target):
            return False
        decoded = unquote(target)
        if decoded == target:
            return True
        target = decoded
    return False  # still changing after several rounds: refused rather than decoded without end

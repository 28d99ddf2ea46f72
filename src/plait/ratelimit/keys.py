"""Who a request counts against: its client address, its user, its API key, or your own function.

A key function takes the :class:`~plait.requests.Request` and returns a string (or None to leave the
request unlimited); it may be async. The built-in ones:

* :func:`client_ip`: ``scope["client"]``, which :class:`~plait.middleware.proxy.ProxyHeadersMiddleware`
  rewrites from ``X-Forwarded-For`` only when the peer is one of its trusted proxies, so a client
  cannot pick its own address by sending the header. IPv6 clients are grouped by /64: a single host
  usually owns a whole /64 and could otherwise rotate addresses to escape the limit.
* :func:`user_or_ip`: the authenticated user (``scope["plait.user"]``, set by ``plait.auth`` when the
  route or an earlier dependency resolved it), else the address.
* :func:`api_key_or_ip`: a hash of the API key header (the key itself is never stored), else the address.
  The value is not checked, so a client can mint a fresh quota per request by sending made-up keys:
  use it only where something verified the key first.

``key="user"`` and ``key="api_key"`` (:func:`user_key`, :func:`api_key`) are what most apps want: with
``plait.auth`` installed they verify the credentials themselves when no dependency has yet (a limit
on a router or the app runs before the handler's ``CurrentUser``), so a per-user limit never falls
back to a shared per-address quota for a signed-in user, and made-up or wrong credentials count
against the client's address. Without ``plait.auth`` they read ``scope["plait.user"]`` / hash the
header, as above.

>>> from plait.requests import Request
>>> client_ip(Request({"type": "http", "client": ("2001:db8::7", 5000), "headers": []}))
'ip:2001:db8::/64'
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from plait.exceptions import HTTPException
from plait.requests import Request

KeyFunc = Callable[[Request], "str | Awaitable[str | None] | None"]


def client_ip(request: Request) -> str:
    """``ip:<address>`` (IPv6: the /64 network); ``ip:unknown`` without a peer address (a Unix socket)."""
    client = request.scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"ip:{address}"


def user_or_ip(request: Request) -> str:
    """``user:<id>`` for an authenticated user (its ``id``, else ``pk``), else :func:`client_ip`."""
    return _user_or_ip(request, request.scope.get("plait.user"))


def _user_or_ip(request: Request, user: Any) -> str:
    ident = getattr(user, "id", None)
    if ident is None:
        ident = getattr(user, "pk", None)
    return f"user:{ident}" if ident is not None else client_ip(request)


def api_key_or_ip(header: str = "X-API-Key") -> Callable[[Request], str]:
    """A key function: ``key:<hash of the header's value>`` when the request has ``header``, else the address.

    >>> key = api_key_or_ip("X-Token")
    >>> key(Request({"type": "http", "client": ("10.0.0.1", 1), "headers": [(b"x-token", b"abc")]}))[:12]
    'key:ba7816bf'
    """
    name = header.lower()

    def key(request: Request) -> str:
        value = request.headers.get(name)
        if not value:
            return client_ip(request)
        # Hashed: the counter's name must not reveal the credential to whoever can read Redis.
        return "key:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]

    return key


_USER = "plait.user"
_CREDENTIALS = "plait.auth.credentials"  # plait.auth.identity.CREDENTIALS_SCOPE_KEY (not imported: auth is optional)
_VERIFIED = "plait.ratelimit.identity"  # what the limits of this request verified (not the request's user)
_UNVERIFIED_KEY = api_key_or_ip()


def _auth_installed(request: Request) -> bool:
    app = request.scope.get("app")
    return app is not None and any(ext.name == "auth" for ext in app.extensions)


async def _verified_identity(request: Request) -> tuple[Any, Any]:
    """The request's user and how it authenticated (``plait.auth`` credentials), verified now if need be.

    A user already resolved by a dependency (``scope["plait.user"]``) is used as it is. Otherwise
    ``plait.auth`` checks the credentials in a database session of its own, and nothing is stored in
    the scope: the handler's ``CurrentUser`` then loads the user again, in the request's session
    (a user object from another session would not save the handler's changes).
    """
    scope = request.scope
    if _USER in scope:
        return scope[_USER], scope.get(_CREDENTIALS)
    if not _auth_installed(request):
        return None, None
    verified: tuple[Any, Any] | None = scope.get(_VERIFIED)
    if verified is not None:  # another limit of this request checked already: once is enough
        return verified
    from plait.auth.identity import resolve_user

    try:
        user = await request.app.container.call(resolve_user, request=request)
    except HTTPException:
        # Wrong, expired or made-up credentials: counted against the address, so guessing keys or
        # tokens is limited like any other anonymous traffic (the handler answers the 401).
        user = None
    verified = scope[_VERIFIED] = (user, scope.get(_CREDENTIALS) if user is not None else None)
    return verified


async def user_key(request: Request) -> str:
    """``key="user"``: ``user:<id>`` for a signed-in user (verified through ``plait.auth`` when it is
    installed and nothing resolved the user yet), else :func:`client_ip`."""
    user, _ = await _verified_identity(request)
    return _user_or_ip(request, user)


async def api_key(request: Request) -> str:
    """``key="api_key"``: ``key:<id>`` for a request authenticated by a valid ``plait.auth`` API key;
    the address otherwise (a token, a session, a wrong key, none). Without ``plait.auth``: a hash of
    the ``X-API-Key`` header, as :func:`api_key_or_ip`."""
    if not _auth_installed(request):
        return _UNVERIFIED_KEY(request)
    _, credentials = await _verified_identity(request)
    key = getattr(credentials, "api_key", None)
    ident = getattr(key, "id", None)
    return f"key:{ident}" if ident is not None else client_ip(request)


NAMED_KEYS: dict[str, KeyFunc] = {"ip": client_ip, "user": user_key, "api_key": api_key}
"""The key functions ``RateLimit(key=...)`` accepts by name."""

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

>>> from plait.requests import Request
>>> client_ip(Request({"type": "http", "client": ("2001:db8::7", 5000), "headers": []}))
'ip:2001:db8::/64'
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable

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
    user = request.scope.get("plait.user")
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


NAMED_KEYS: dict[str, KeyFunc] = {"ip": client_ip, "user": user_or_ip, "api_key": api_key_or_ip()}
"""The key functions ``RateLimit(key=...)`` accepts by name."""

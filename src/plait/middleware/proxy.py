"""Believe what a trusted reverse proxy says about the original client, scheme and host.

::

    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.0/8"])

Behind a proxy the app sees the proxy's address and, when the proxy terminates TLS, an
``http`` scheme. The proxy reports the truth in headers, but any client can send the same
headers, so they are read **only** when the direct peer (``scope["client"]``) is one of
``trusted_proxies`` (IP addresses or CIDR networks; ``"*"`` trusts every peer, for a network
nobody else can reach). From anyone else they are ignored.

With trusted peers:

* ``X-Forwarded-For`` is a list each proxy appends to. It is read from the right, skipping
  trusted proxies; the first address that is not one becomes ``scope["client"]`` (the
  leftmost when all are trusted). Addresses to its left were written by the client and could
  say anything. A hop that is not an IP address stops the walk and leaves the client as is.
* ``X-Forwarded-Proto`` (its last value) sets ``scope["scheme"]`` when it is ``http``,
  ``https``, ``ws`` or ``wss`` (``wss``/``ws`` for WebSockets, ``https``/``http`` otherwise).
* ``X-Forwarded-Host`` (its last value) replaces the ``Host`` header when it is a well-formed
  host. Make sure your proxy sets or strips it; many pass a client's value through.

``use_forwarded=True`` reads the standard ``Forwarded`` header (RFC 7239) **instead**: the
walk goes over its elements, and ``proto=`` and ``host=`` come from the element where it
stops. Only one family is read, so a client cannot slip in the one your proxy does not clean.
Put this middleware outermost, so the others (HTTPS redirect, trusted hosts, access log)
see the corrected values. The scope is copied, never changed in place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from plait._types import ASGIApp, RawHeaders, Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.middleware._headers import get_headers
from plait.middleware.hosts import parse_host

__all__ = ["ProxyHeadersMiddleware", "parse_forwarded"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Hop = tuple[str, int]
_PROTOS = {"http": False, "https": True, "ws": False, "wss": True}
_SCHEMES = {("http", False): "http", ("http", True): "https", ("websocket", False): "ws", ("websocket", True): "wss"}


def _parse_ip(text: str) -> tuple[IPAddress, int] | None:
    """An address as a proxy writes it: ``1.2.3.4``, ``1.2.3.4:80``, ``::1`` or ``[::1]:80``."""
    host, port = text, ""
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    return address, int(port or 0)


def _split(text: str, separator: str) -> list[str] | None:
    """Split on ``separator`` outside quoted strings; None when a quote is left open."""
    parts, start, quoted, escaped = [], 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return None if quoted else parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        chars, escaped = [], False
        for char in value[1:-1]:
            if char == "\\" and not escaped:
                escaped = True
                continue
            chars.append(char)
            escaped = False
        return "".join(chars)
    return value


def parse_forwarded(value: str) -> list[dict[str, str]] | None:
    """The elements of an RFC 7239 ``Forwarded`` header, names lower-cased; None when malformed.

    >>> parse_forwarded('for=192.0.2.60;proto=https, For="[2001:db8::17]:4711"')
    [{'for': '192.0.2.60', 'proto': 'https'}, {'for': '[2001:db8::17]:4711'}]
    """
    elements = _split(value, ",")
    if elements is None:
        return None
    result = []
    for element in elements:
        pairs: dict[str, str] = {}
        for pair in _split(element, ";") or ():
            name, equals, item = pair.partition("=")
            if equals and name.strip():
                pairs[name.strip().lower()] = _unquote(item.strip())
        result.append(pairs)
    return result


def _last(headers: RawHeaders, name: bytes) -> str | None:
    values = get_headers(headers, name)
    return values[-1].decode("latin-1").rsplit(",", 1)[-1].strip() if values else None


class ProxyHeadersMiddleware:
    """Take the client address, scheme and host from a trusted proxy's headers (see the module notes)."""

    def __init__(
        self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ("127.0.0.1",), use_forwarded: bool = False
    ) -> None:
        if isinstance(trusted_proxies, str):
            raise ConfigurationError(
                f"ProxyHeadersMiddleware(trusted_proxies=...) takes a list of addresses: [{trusted_proxies!r}]."
            )
        self.app = app
        self.use_forwarded = use_forwarded
        self.trust_all = False
        self.addresses: set[IPAddress] = set()
        self.networks: list[IPNetwork] = []
        for entry in trusted_proxies:
            self._add(str(entry).strip())

    def _add(self, entry: str) -> None:
        try:
            if entry == "*":
                self.trust_all = True
            elif "/" in entry:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            else:
                self.addresses.add(ipaddress.ip_address(entry))
        except ValueError:
            raise ConfigurationError(
                f"ProxyHeadersMiddleware(trusted_proxies=...): {entry!r} is not an IP address or network. "
                "Write addresses like '10.0.0.5' or networks like '10.0.0.0/8'; host names are not resolved."
            ) from None

    def trusted(self, address: IPAddress) -> bool:
        """Whether a peer at ``address`` may speak for the client."""
        if self.trust_all or address in self.addresses:
            return True
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        if mapped is not None and mapped in self.addresses:
            return True
        return any(address in network or (mapped is not None and mapped in network) for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._peer_trusted(scope):
            scope = self._rewrite(scope)
        await self.app(scope, receive, send)

    def _peer_trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        if self.trust_all:
            return True
        if not client:  # e.g. a Unix socket: no address to check
            return False
        peer = _parse_ip(str(client[0]))
        return peer is not None and self.trusted(peer[0])

    def _walk(self, hops: list[str]) -> tuple[int, Hop | None]:
        """Where the walk from the right stops, and the client address found there."""
        index, found = len(hops) - 1, None
        while index >= 0:
            parsed = _parse_ip(hops[index])
            if parsed is None:
                return index, None
            found = (str(parsed[0]), parsed[1])
            if not self.trusted(parsed[0]):
                return index, found
            index -= 1
        return 0, found

    def _rewrite(self, scope: Scope) -> Scope:
        headers: RawHeaders = scope["headers"]
        if self.use_forwarded:
            client, proto, host = self._from_forwarded(headers)
        else:
            hops = [hop.strip() for value in get_headers(headers, b"x-forwarded-for") for hop in value.split(b",")]
            client = self._walk([hop.decode("latin-1") for hop in hops])[1] if hops else None
            proto, host = _last(headers, b"x-forwarded-proto"), _last(headers, b"x-forwarded-host")
        scope = dict(scope)
        if client is not None:
            scope["client"] = client
        secure = _PROTOS.get((proto or "").lower())
        if secure is not None:
            scope["scheme"] = _SCHEMES[scope["type"], secure]
        parsed = parse_host(host) if host else None
        if parsed is not None:
            value = parsed[0] if parsed[1] is None else f"{parsed[0]}:{parsed[1]}"
            scope["headers"] = [(k, v) for k, v in headers if k.lower() != b"host"] + [(b"host", value.encode())]
        return scope

    def _from_forwarded(self, headers: RawHeaders) -> tuple[Hop | None, str | None, str | None]:
        values = get_headers(headers, b"forwarded")
        elements = parse_forwarded(", ".join(v.decode("latin-1") for v in values)) if values else None
        if not elements:
            return None, None, None
        index, client = self._walk([element.get("for", "") for element in elements])
        chosen = elements[index]
        return client, chosen.get("proto"), chosen.get("host")

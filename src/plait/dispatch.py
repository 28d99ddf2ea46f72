"""The innermost app: match the path, pick the method's endpoint, or answer 404/405/redirect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.datastructures import route_path
from plait.errors import STARTED
from plait.exceptions import HTTPException
from plait.http.urls import same_site_path
from plait.responses import Response
from plait.routing.matcher import Matcher
from plait.routing.router import WEBSOCKET


@dataclass(slots=True)
class MethodTable:
    """The endpoints of one path, by method."""

    endpoints: dict[str, ASGIApp] = field(default_factory=dict)

    def finish(self) -> None:
        if "GET" in self.endpoints and "HEAD" not in self.endpoints:
            self.endpoints["HEAD"] = self.endpoints["GET"]


class Dispatcher:
    """Finds the endpoint for a request; raises 404/405 as ``HTTPException`` for the error handlers."""

    __slots__ = ("matcher", "mounts", "redirect_slashes")

    def __init__(
        self, matcher: Matcher[MethodTable], mounts: Sequence[tuple[str, ASGIApp]], redirect_slashes: bool
    ) -> None:
        self.matcher = matcher
        # Longest prefix first, so /api/v2 wins over /api.
        self.mounts = sorted(mounts, key=lambda m: len(m[0]), reverse=True)
        self.redirect_slashes = redirect_slashes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return
        path = route_path(scope)
        method = scope["method"] if kind == "http" else WEBSOCKET
        found = self.matcher.match(path)
        if found is not None:
            table, params = found
            endpoint = table.endpoints.get(method)
            if endpoint is None:
                endpoint, params = self._other_match(path, method)
            if endpoint is not None:
                scope["path_params"] = params
                await endpoint(scope, receive, send)
                return
            if kind == "http":
                if method == "OPTIONS" and await self._options(scope, receive, send, path):
                    return
                self._refuse_method(path, method)
        mounted = self._mount(path)
        if mounted is not None:
            prefix, app = mounted
            child = dict(scope)  # the path stays whole; the prefix moves into root_path (ASGI convention)
            child["root_path"] = scope.get("root_path", "") + prefix
            await app(child, receive, _marking(send, scope))
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        await self._not_found(scope, receive, send, path)

    def _other_match(self, path: str, method: str) -> tuple[ASGIApp | None, dict[str, object]]:
        # Rare path: the best match lacks the method, so a lower-priority route may have it
        # (GET /users/me and DELETE /users/{name}: DELETE /users/me goes to the second).
        for table, params in self.matcher.matches(path):
            endpoint = table.endpoints.get(method)
            if endpoint is not None:
                return endpoint, params
        return None, {}

    def _methods(self, path: str) -> set[str]:
        return {m for table, _ in self.matcher.matches(path) for m in table.endpoints if m != WEBSOCKET}

    async def _options(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        """Answer ``OPTIONS`` for a path that does not route it: 204 with ``Allow`` (as Flask does).

        Only reached when no route declares OPTIONS here, so the routes' own answers and a CORS
        middleware's preflight answers (the middleware runs before the dispatcher) come first.
        """
        methods = self._methods(path)
        if not methods:  # only a WebSocket lives here: the 426 says how to connect
            return False
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await Response(status_code=204, headers={"allow": allow})(scope, receive, send)
        return True

    def _refuse_method(self, path: str, method: str) -> None:
        methods = self._methods(path)
        if not methods:  # only a WebSocket lives here
            raise HTTPException(
                426, "This path is a WebSocket endpoint; connect with a WebSocket client.", {"Upgrade": "websocket"}
            )
        allow = ", ".join(sorted(methods))
        raise HTTPException(405, f"{method} is not allowed here; use {allow}.", {"Allow": allow})

    def _mount(self, path: str) -> tuple[str, ASGIApp] | None:
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, app
        return None

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self.matcher.match(other) is not None:
                # 308 keeps the method and body, so a POST to the wrong form is not lost.
                location = _toggled_location(scope)
                await Response(status_code=308, headers={"location": location})(scope, receive, send)
                return
        raise HTTPException(404, f"Nothing is routed at {path}; check the URL (plait routes lists them).")


def _toggled_location(scope: Scope) -> str:
    """The request's own URL with its trailing slash added or removed, built from the raw bytes.

    Using ``raw_path`` keeps percent-escapes exactly as sent (``%3F`` must not become ``?``).
    The result always stays on this site: ``//evil.example/`` redirects to ``/evil.example``,
    never to another host (see ``same_site_path``).
    """
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        raw = quote(scope.get("root_path", "") + route_path(scope)).encode("ascii")
    raw = raw[:-1] if raw.endswith(b"/") else raw + b"/"
    query: bytes = scope.get("query_string", b"")
    return same_site_path((raw + (b"?" + query if query else b"")).decode("latin-1"))


def _marking(send: Send, scope: Scope) -> Send:
    """Wrap a mounted app's ``send`` to note in the scope when its response begins."""

    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            scope[STARTED] = True
        await send(message)

    return marked

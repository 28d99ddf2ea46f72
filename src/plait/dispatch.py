"""The innermost app: match the path, pick the method's endpoint, or answer 404/405/redirect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from plait._types import ASGIApp, Receive, Scope, Send
from plait.exceptions import HTTPException
from plait.responses import RedirectResponse
from plait.routing.matcher import Matcher
from plait.routing.router import WEBSOCKET


@dataclass(slots=True)
class MethodTable:
    """The endpoints of one path, by method, with the ``Allow`` header precomputed."""

    endpoints: dict[str, ASGIApp] = field(default_factory=dict)
    allow: str = ""

    def finish(self) -> None:
        if "GET" in self.endpoints and "HEAD" not in self.endpoints:
            self.endpoints["HEAD"] = self.endpoints["GET"]
        self.allow = ", ".join(sorted(m for m in self.endpoints if m != WEBSOCKET))


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
        path = scope["path"]
        found = self.matcher.match(path)
        if found is not None:
            table, params = found
            endpoint = table.endpoints.get(scope["method"] if kind == "http" else WEBSOCKET)
            if endpoint is not None:
                scope["path_params"] = params
                await endpoint(scope, receive, send)
                return
            if kind == "http":
                _refuse_method(scope["method"], table)
        mounted = self._mount(path)
        if mounted is not None:
            prefix, app = mounted
            await app(self._mount_child(scope, prefix, path), receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        await self._not_found(scope, receive, send, path)

    @staticmethod
    def _mount_child(scope: Scope, prefix: str, path: str) -> Scope:
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + prefix
        child["path"] = path[len(prefix) :] or "/"
        return child

    def _mount(self, path: str) -> tuple[str, ASGIApp] | None:
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, app
        return None

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self.matcher.match(other) is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope.get("root_path", "") + other + (f"?{query}" if query else "")
                # 308 keeps the method and body, so a POST to the wrong form is not lost.
                await RedirectResponse(target, status_code=308)(scope, receive, send)
                return
        raise HTTPException(404, f"Nothing is routed at {path}; check the URL (plait routes lists them).")


def _refuse_method(method: str, table: MethodTable) -> None:
    if not table.allow:  # only a WebSocket lives here
        raise HTTPException(
            426, "This path is a WebSocket endpoint; connect with a WebSocket client.", {"Upgrade": "websocket"}
        )
    raise HTTPException(405, f"{method} is not allowed here; use {table.allow}.", {"Allow": table.allow})

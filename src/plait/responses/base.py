"""The response classes that hold their whole body in memory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import msgspec

from plait._types import Receive, Scope, Send
from plait.datastructures import MutableHeaders
from plait.http.cookies import SameSite, build_set_cookie
from plait.http.headers import check_header_name, encode_header_value

_json_encode = msgspec.json.encode


class Response:
    """An HTTP response with its whole body in memory.

    >>> Response(b"hi", media_type="text/plain").headers["content-type"]
    'text/plain; charset=utf-8'
    """

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"

    def __init__(
        self,
        content: bytes | str | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = self.render(content)
        self.headers = MutableHeaders()
        if headers:
            # PERF: a new response has no headers yet, so each one is checked and appended (no replace scan).
            raw = self.headers.raw
            for key, value in headers.items():
                raw.append((check_header_name(key).lower().encode("latin-1"), encode_header_value(key, value)))
        if media_type is not None:  # the class's own media type is trusted; a caller's is checked
            encode_header_value("content-type", media_type)
        self._init_headers(media_type or self.media_type)

    def render(self, content: Any) -> bytes:
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        return str(content).encode(self.charset)

    def _init_headers(self, media_type: str | None) -> None:
        raw = self.headers.raw
        names = {k for k, _ in raw}
        if media_type is not None and b"content-type" not in names:
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type = f"{media_type}; charset={self.charset}"
            raw.append((b"content-type", media_type.encode("latin-1")))
        if b"content-length" not in names and self.status_code >= 200 and self.status_code not in (204, 304):
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header. Secure, HttpOnly and SameSite=Lax unless you say otherwise."""
        cookie = build_set_cookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
        self.headers.raw.append((b"set-cookie", cookie.encode("latin-1")))  # build_set_cookie checked it
        self.headers.changed()

    def delete_cookie(self, key: str, *, path: str = "/", domain: str | None = None) -> None:
        """Tell the browser to forget a cookie."""
        self.set_cookie(key, "", max_age=0, path=path, domain=domain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.headers.raw})
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


class HTMLResponse(Response):
    """An HTML page. ``HTMLResponse("<h1>Hi</h1>")``"""

    media_type = "text/html"


class PlainTextResponse(Response):
    """Plain text. ``PlainTextResponse("pong")``"""

    media_type = "text/plain"


class JSONResponse(Response):
    """Any msgspec-encodable value as JSON. ``JSONResponse({"ok": True}, status_code=201)``"""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        # Any encodable value is accepted here, not just the bytes/str/None of Response.
        super().__init__(content, status_code=status_code, headers=headers, media_type=media_type)

    def render(self, content: Any) -> bytes:
        return _json_encode(content)


class RedirectResponse(Response):
    """A redirect (307 by default, which keeps the method and body).

    >>> RedirectResponse("/login").headers["location"]
    '/login'
    """

    def __init__(self, url: str, status_code: int = 307, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(b"", status_code=status_code, headers=headers)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")

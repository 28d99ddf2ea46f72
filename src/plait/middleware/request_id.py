"""Give every request an id, for tying log lines and error reports together.

::

    app.add_middleware(RequestIDMiddleware)

    @app.get("/")
    def home(request: Request) -> dict[str, str]:
        return {"id": request.state.request_id}

The id is a well-formed ``X-Request-ID`` from the client or a proxy in front (up to 128 of
the characters ``A-Z a-z 0-9 - _ . : + / = @``) when ``trust_incoming`` is on, and a fresh
``uuid4().hex`` otherwise. Anything else in the incoming header is replaced, so an id can
never carry line breaks or markup into a log. Turn ``trust_incoming`` off when clients reach
the app directly and ids must be unique.

Where to read it:

* ``request.state.request_id`` in a handler or dependency;
* ``scope["plait.request_id"]`` in raw ASGI code (:data:`SCOPE_KEY`);
* :func:`current_request_id` anywhere while the request runs (a context variable; handy in a
  ``logging.Filter``);
* the response's ``X-Request-ID`` header (unless the response set that header itself).

WebSocket connections get an id in the scope and state too; there is no response header to
echo it in.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.exceptions import ConfigurationError
from plait.http.headers import TOKEN
from plait.middleware._headers import get_headers, has_header, with_headers
from plait.requests import HTTPConnection

__all__ = ["SCOPE_KEY", "RequestIDMiddleware", "current_request_id"]

SCOPE_KEY = "plait.request_id"
"""The scope key that holds the request's id."""

_VALID_ID = re.compile(r"[A-Za-z0-9\-_.:+/=@]{1,128}")
_current: ContextVar[str | None] = ContextVar("plait.request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside one.

    >>> current_request_id() is None
    True
    """
    return _current.get()


class RequestIDMiddleware:
    """Assign each request an id and echo it in a response header (see the module notes)."""

    def __init__(self, app: ASGIApp, *, header_name: str = "X-Request-ID", trust_incoming: bool = True) -> None:
        if not TOKEN.fullmatch(header_name):
            raise ConfigurationError(
                f"RequestIDMiddleware(header_name={header_name!r}) is not a valid header name; use letters, "
                "digits and '-', e.g. 'X-Request-ID'."
            )
        self.app = app
        self.header = header_name.lower().encode("latin-1")
        self.trust_incoming = trust_incoming

    def request_id(self, scope: Scope) -> str:
        """The incoming id when it may be trusted and is well formed, else a new one."""
        if self.trust_incoming:
            values = get_headers(scope["headers"], self.header)
            if len(values) == 1:
                text = values[0].decode("latin-1")
                if _VALID_ID.fullmatch(text):
                    return text
        return uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        # Set on the scope in place (not a copy) so that outer middleware, such as the access
        # log, can read it once the app returns.
        scope[SCOPE_KEY] = request_id
        HTTPConnection(scope).state.request_id = request_id
        token = _current.set(request_id)
        try:
            if scope["type"] == "http":
                await self.app(scope, receive, self._echoing(send, request_id))
            else:
                await self.app(scope, receive, send)
        finally:
            _current.reset(token)

    def _echoing(self, send: Send, request_id: str) -> Send:
        header = (self.header, request_id.encode("latin-1"))

        async def echoing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not has_header(message.get("headers", ()), header[0]):
                message = with_headers(message, [header])
            await send(message)

        return echoing_send

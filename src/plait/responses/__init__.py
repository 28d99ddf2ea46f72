"""Responses: plain, JSON, HTML, text, redirects, streams and files."""

from plait.responses.base import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from plait.responses.files import FileResponse
from plait.responses.sse import EventSourceResponse, ServerSentEvent
from plait.responses.streaming import StreamingResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "ServerSentEvent",
    "StreamingResponse",
]

"""Plait: one Python web framework — Flask's simplicity, FastAPI's types and speed, Django's batteries.

>>> from plait import Plait
>>> app = Plait()
>>> @app.get("/")
... def hello() -> dict[str, str]:
...     return {"hello": "world"}
"""

from typing import Any

from plait import status
from plait.app import Plait, RouteInfo
from plait.background import BackgroundTasks
from plait.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
)
from plait.di import Container, Depends
from plait.errors import ProblemResponse, http_exception_handler, request_validation_exception_handler
from plait.exceptions import (
    BadRequestKeyError,
    ConfigurationError,
    DependencyError,
    ErrorDetail,
    HTTPException,
    PlaitError,
    RequestValidationError,
    WebSocketException,
)
from plait.params import Body, Cookie, File, Form, Header, Path, Query
from plait.requests import Request
from plait.responses import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    ServerSentEvent,
    StreamingResponse,
)
from plait.routing import Converter, Middleware, RouteOptions, Router, register_converter
from plait.settings import Settings, load_settings
from plait.staticfiles import StaticFiles
from plait.websockets import WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "URL",
    "Address",
    "BackgroundTasks",
    "BadRequestKeyError",
    "Body",
    "ConfigurationError",
    "Container",
    "Converter",
    "Cookie",
    "DependencyError",
    "Depends",
    "ErrorDetail",
    "EventSourceResponse",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "JSONResponse",
    "Middleware",
    "MutableHeaders",
    "Path",
    "PlainTextResponse",
    "Plait",
    "PlaitError",
    "ProblemResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "RouteInfo",
    "RouteOptions",
    "Router",
    "ServerSentEvent",
    "Settings",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "__version__",
    "g",
    "http_exception_handler",
    "load_settings",
    "register_converter",
    "request_validation_exception_handler",
    "status",
]


def __getattr__(name: str) -> Any:
    # ``g`` is imported on first use: importing plait.context is what tells an app to track the
    # current request (see plait.context), so apps that never use ``g`` pay nothing for it.
    if name == "g":
        from plait.context import g

        return g
    raise AttributeError(f"module 'plait' has no attribute {name!r}")

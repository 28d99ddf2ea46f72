"""Plait: one Python web framework — Flask's simplicity, FastAPI's types and speed, Django's batteries.

>>> from plait import Plait
>>> app = Plait()
>>> @app.get("/")
... def hello() -> dict[str, str]:
...     return {"hello": "world"}
"""

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
from plait.errors import ProblemResponse
from plait.exceptions import (
    ConfigurationError,
    DependencyError,
    ErrorDetail,
    HTTPException,
    PlaitError,
    RequestValidationError,
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
    "__version__",
    "load_settings",
    "register_converter",
]

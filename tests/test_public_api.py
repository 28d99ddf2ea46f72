"""The public surface is ``plait.__all__``; this pins it so changes are deliberate."""

from __future__ import annotations

import plait

EXPECTED = {
    "WebSocketDisconnect",
    "WebSocket",
    "StaticFiles",
    "ServerSentEvent",
    "EventSourceResponse",
    "BackgroundTasks",
    "URL",
    "Address",
    "Body",
    "ConfigurationError",
    "Container",
    "Converter",
    "Cookie",
    "DependencyError",
    "Depends",
    "ErrorDetail",
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
    "Settings",
    "State",
    "StreamingResponse",
    "UploadFile",
    "__version__",
    "load_settings",
    "register_converter",
    "WebSocketException",
    "status",
    "BadRequestKeyError",
    "g",
    "http_exception_handler",
    "request_validation_exception_handler",
}


def test_all_is_pinned() -> None:
    assert set(plait.__all__) == EXPECTED
    assert len(plait.__all__) == len(set(plait.__all__)), "plait.__all__ lists a name twice"


def test_every_public_name_exists() -> None:
    for name in plait.__all__:
        assert getattr(plait, name) is not None, name


def test_version_matches_package_metadata() -> None:
    from importlib.metadata import version

    assert plait.__version__ == version("plait")

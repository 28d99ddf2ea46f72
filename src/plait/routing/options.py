"""Checking route options where they are declared, so a typo fails at import time, not silently.

A misspelt keyword (``status=201``) or a FastAPI keyword Plait lacks would otherwise be accepted
and ignored; :func:`check_options` turns it into a :class:`ConfigurationError` that names the
route and the nearest valid option. Obvious value mistakes (a status code of ``"201"``, a
``response_class`` that is not a Response) fail the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from plait.di.markers import Depends
from plait.exceptions import ConfigurationError
from plait.responses import Response

WEBSOCKET_KEYS = frozenset(
    {"name", "tags", "summary", "description", "deprecated", "include_in_schema", "dependencies", "origins"}
)

# FastAPI keywords Plait does not take, with the one-line change a user makes instead.
_INSTEAD = {
    "response_model_exclude_none": "leave None fields out of the model (or use msgspec.UNSET for optional fields)",
    "response_model_exclude_defaults": "use response_model_exclude_unset=True and return a dict or pydantic model",
    "response_model_by_alias": "field aliases (msgspec rename / pydantic alias) are always used in responses",
    "callbacks": "describe callbacks in the OpenAPI document hook instead",
    "openapi_extra": "edit the generated document through the app's OpenAPI hook instead",
    "generate_unique_id_function": "pass operation_id=... on the routes that need a fixed id",
    "methods": "use app.route(path, methods=[...]) or the verb decorators (app.get, app.post, ...)",
}


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, Collection) and not isinstance(value, str | bytes) and all(_text(v) for v in value)


def _status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def _responses(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, int | str) and not isinstance(k, bool) for k in value)


def _dependencies(value: Any) -> bool:
    return isinstance(value, Collection) and not isinstance(value, str) and all(isinstance(d, Depends) for d in value)


def _response_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Response)


def _anything(value: Any) -> bool:
    return True


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (_text, "a string"),
    "status_code": (_status, "an int from 100 to 599, e.g. status_code=201"),
    "tags": (_strings, 'a list of strings, e.g. tags=["users"]'),
    "summary": (_text, "a string"),
    "description": (_text, "a string"),
    "response_description": (_text, "a string"),
    "deprecated": (_flag, "True or False"),
    "include_in_schema": (_flag, "True or False"),
    "responses": (_responses, 'a dict keyed by status code, e.g. responses={404: {"description": "Not found"}}'),
    "dependencies": (_dependencies, "a list of Depends(...), e.g. dependencies=[Depends(check_token)]"),
    "operation_id": (_text, "a string"),
    "response_class": (_response_class, "a Response subclass such as HTMLResponse or RedirectResponse"),
    "response_model": (_anything, "a type"),
    "response_model_exclude_unset": (_flag, "True or False"),
    "response_model_include": (_strings, 'a set of field names, e.g. {"id", "name"}'),
    "response_model_exclude": (_strings, 'a set of field names, e.g. {"password"}'),
    "origins": (_strings, 'a list of Origin values, e.g. ["https://example.com"]'),
}
HTTP_KEYS = frozenset(_CHECKS) - {"origins"}


def check_options(where: str, options: Mapping[str, Any], *, websocket: bool = False) -> None:
    """Raise a ConfigurationError naming ``where`` for an unknown option or a value of the wrong kind.

    >>> check_options("GET /", {"status_code": 201})
    >>> check_options("GET /", {"status": 201})
    Traceback (most recent call last):
    ...
    plait.exceptions.ConfigurationError: GET /: unknown route option 'status'; did you mean 'status_code'? ...
    """
    allowed = WEBSOCKET_KEYS if websocket else HTTP_KEYS
    for key, value in options.items():
        if key not in allowed:
            raise ConfigurationError(f"{where}: {_unknown(key, allowed, websocket)}")
        check, wanted = _CHECKS[key]
        if not check(value):
            raise ConfigurationError(f"{where}: option {key}= must be {wanted}, not {value!r}.")
        if key == "responses":
            _check_responses(where, value)


# The keys of FastAPI's ``responses={404: {...}}`` entries that the OpenAPI generator reads.
_RESPONSE_KEYS = ("model", "description", "content", "headers", "links")
_CODE_RANGES = frozenset({"1XX", "2XX", "3XX", "4XX", "5XX", "default"})


def _check_responses(where: str, responses: Mapping[int | str, Any]) -> None:
    """Codes and entry keys of ``responses=``, checked now rather than when the document is first built."""
    for code, spec in responses.items():
        text = str(code)
        if text not in _CODE_RANGES and not (text.isdigit() and 100 <= int(text) <= 599):
            raise ConfigurationError(
                f"{where}: responses key {code!r} is not a status code; use an int from 100 to 599, "
                "'4XX'-style ranges or 'default'."
            )
        if not isinstance(spec, Mapping):
            continue  # a description string, a model type or a Response class
        for entry in spec:
            if entry not in _RESPONSE_KEYS and not str(entry).startswith("x-"):
                near = difflib.get_close_matches(str(entry), _RESPONSE_KEYS, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ConfigurationError(
                    f"{where}: responses[{code!r}] has no key {entry!r}{hint}; it takes "
                    f'{", ".join(_RESPONSE_KEYS)}, e.g. {{"model": Item, "description": "The item."}}.'
                )


def _unknown(key: str, allowed: frozenset[str], websocket: bool) -> str:
    if key in _CHECKS:  # valid for the other kind of route
        kind = "HTTP" if websocket else "WebSocket"
        return f"option {key!r} only applies to {kind} routes; remove it here."
    if key in _INSTEAD:
        return f"Plait has no route option {key!r}: {_INSTEAD[key]}."
    near = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"unknown route option {key!r}; {hint}Valid options: {', '.join(sorted(allowed))}."


# Flask and FastAPI app/blueprint methods Plait does not have, with the Plait way: an AttributeError
# that says what to write instead, rather than Python's bare "has no attribute".
_FOREIGN_ATTRIBUTES = {
    "run": "start the app with `plait run module:app` (development) or `plait serve module:app`",
    "errorhandler": "use @app.exception_handler(404) or @app.exception_handler(SomeError)",
    "register_blueprint": "a Router is Plait's blueprint: app.include_router(router, prefix=...)",
    "add_url_rule": "use app.route(path, methods=[...])(handler)",
    "api_route": "use @app.route(path, methods=[...])",
    "add_api_route": "use app.route(path, methods=[...])(handler)",
    "add_api_websocket_route": "use app.websocket(path)(handler)",
    "websocket_route": "use @app.websocket(path)",
    "on_event": "use @app.on_startup / @app.on_shutdown, or Plait(lifespan=...)",
    "add_event_handler": "use app.on_startup(fn) / app.on_shutdown(fn), or Plait(lifespan=...)",
    "before_first_request": "use @app.on_startup",
    "before_app_request": "put @before_request on the app itself",
    "test_client": "use TestClient(app) from plait.testing",
    "config": "use app.settings (typed, read from PLAIT_* environment variables)",
    "logger": "use logging.getLogger(__name__)",
    "url_path_for": "use app.url_for(name, **params)",
    "exception_handlers_for": "use app.exception_handlers",
}


def foreign_attribute(owner: str, name: str) -> AttributeError:
    """The AttributeError for ``owner.name``; for a Flask/FastAPI name it says what to write in Plait.

    >>> print(foreign_attribute("Plait", "on_event"))
    'Plait' object has no attribute 'on_event': use @app.on_startup / @app.on_shutdown, or Plait(lifespan=...).
    """
    instead = _FOREIGN_ATTRIBUTES.get(name)
    message = f"{owner!r} object has no attribute {name!r}"
    return AttributeError(f"{message}: {instead}." if instead else message, name=name)

"""The app's published description (contact, licence, tags, servers): its shape, checked where the app is declared.

``Plait(contact=..., license_info=..., openapi_tags=..., servers=...)`` takes FastAPI's names and shapes
(plain dicts). The app refuses a wrong shape when it is created, with an error that says what to
write instead, so a typo never silently drops a field from the published OpenAPI document. This
sits below ``app.py`` so that the app checks it without importing the OpenAPI layer.

>>> try:
...     check_metadata(contact={"mail": "ops@example.com"})
... except ConfigurationError as exc:
...     print(str(exc).split(";")[0])
contact has no key 'mail' (did you mean 'email'?)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from plait.exceptions import ConfigurationError

__all__ = ["Server", "check_metadata"]

Server = str | Mapping[str, Any]

_CONTACT = {"name": str, "url": str, "email": str}
_LICENSE = {"name": str, "identifier": str, "url": str}
_EXTERNAL_DOCS = {"url": str, "description": str}
_TAG = {"name": str, "description": str, "externalDocs": Mapping}
_SERVER = {"url": str, "description": str, "variables": Mapping}
_VARIABLE = {"default": str, "enum": list, "description": str}
_EXAMPLES = {
    "contact": '{"name": "API team", "url": "https://example.com", "email": "api@example.com"}',
    "license_info": '{"name": "MIT", "identifier": "MIT"}',
    "openapi_tags": '[{"name": "items", "description": "Things for sale."}]',
    "servers": '[{"url": "https://api.example.com", "description": "Production"}]',
}


def check_metadata(
    *,
    summary: str | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    openapi_tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Server] | None = None,
) -> None:
    """Refuse metadata the OpenAPI document cannot carry, naming the fix (:class:`ConfigurationError`)."""
    for where, text in (("summary", summary), ("terms_of_service", terms_of_service)):
        if text is not None and not isinstance(text, str):
            raise ConfigurationError(f"{where} must be a string; got {type(text).__name__}.")
    if contact is not None:
        _check_object("contact", contact, _CONTACT, (), _EXAMPLES["contact"])
    if license_info is not None:
        _check_license(license_info)
    if openapi_tags is not None:
        _check_tags(openapi_tags)
    if servers is not None:
        _check_servers(servers)


# -- shapes -----------------------------------------------------------------------------------------


def _check_license(value: Any) -> None:
    _check_object("license_info", value, _LICENSE, ("name",), _EXAMPLES["license_info"])
    if "identifier" in value and "url" in value:
        raise ConfigurationError(
            "license_info takes an SPDX 'identifier' or a 'url', not both (OpenAPI 3.1); keep one of them."
        )


def _check_tags(tags: Any) -> None:
    if isinstance(tags, str | Mapping) or not isinstance(tags, Sequence):
        raise ConfigurationError(f"openapi_tags must be a list of dicts such as {_EXAMPLES['openapi_tags']}.")
    seen: set[str] = set()
    for index, tag in enumerate(tags):
        where = f"openapi_tags[{index}]"
        _check_object(where, tag, _TAG, ("name",), _EXAMPLES["openapi_tags"][1:-1])
        if tag["name"] in seen:
            raise ConfigurationError(f"{where}: the tag {tag['name']!r} is listed twice; list each tag once.")
        seen.add(tag["name"])
        if "externalDocs" in tag:
            example = '{"url": "https://example.com/docs", "description": "More"}'
            _check_object(f"{where}['externalDocs']", tag["externalDocs"], _EXTERNAL_DOCS, ("url",), example)


def _check_servers(servers: Any) -> None:
    if isinstance(servers, str | Mapping) or not isinstance(servers, Sequence):
        raise ConfigurationError(f"servers must be a list of URLs or dicts such as {_EXAMPLES['servers']}.")
    for index, server in enumerate(servers):
        if isinstance(server, str):
            continue
        where = f"servers[{index}]"
        _check_object(where, server, _SERVER, ("url",), _EXAMPLES["servers"][1:-1])
        for name, variable in server.get("variables", {}).items():
            example = '{"default": "v1", "enum": ["v1", "v2"]}'
            _check_object(f"{where}['variables'][{name!r}]", variable, _VARIABLE, ("default",), example)


def _check_object(where: str, value: Any, fields: Mapping[str, type], required: Sequence[str], example: str) -> None:
    """``value`` is a dict with only ``fields`` (or ``x-`` extensions), each of its type, and the ``required`` ones."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a dict such as {example}; got {type(value).__name__}.")
    for key, item in value.items():
        if isinstance(key, str) and key.startswith("x-"):
            continue
        kind = fields.get(key)
        if kind is None:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError(
                f"{where} has no key {key!r}{hint}; it takes {', '.join(fields)} (and x- extensions), e.g. {example}."
            )
        if not isinstance(item, kind):
            raise ConfigurationError(f"{where}[{key!r}] must be a {_kind(kind)}; got {type(item).__name__}.")
    missing = [key for key in required if key not in value]
    if missing:
        raise ConfigurationError(f"{where} needs {missing[0]!r}, e.g. {example}.")


def _kind(kind: type) -> str:
    return "string" if kind is str else "list" if kind is list else "dict"

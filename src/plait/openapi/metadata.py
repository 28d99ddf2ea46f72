"""The app-wide parts of the OpenAPI document: ``info``, ``servers`` and ``tags``.

Plait takes them with FastAPI's names and shapes (plain dicts); the app checks their shape when it
is created (:func:`check_metadata`, from :mod:`plait.api_info`), and these turn them into the
document's objects.

>>> info_object(title="Shop", version="1.0", license_info={"name": "MIT", "identifier": "MIT"})
{'title': 'Shop', 'license': {'name': 'MIT', 'identifier': 'MIT'}, 'version': '1.0'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from plait.api_info import Server, check_metadata

__all__ = ["Server", "check_metadata", "info_object", "server_objects", "tag_objects"]

JSON = dict[str, Any]


def info_object(
    *,
    title: str,
    version: str,
    summary: str | None = None,
    description: str | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
) -> JSON:
    """The document's Info Object, its fields in the order the specification lists them."""
    info: JSON = {"title": title}
    optional = (
        ("summary", summary),
        ("description", description),
        ("termsOfService", terms_of_service),
        ("contact", dict(contact) if contact else None),
        ("license", dict(license_info) if license_info else None),
    )
    info.update((key, value) for key, value in optional if value)
    info["version"] = version
    return info


def server_objects(servers: Sequence[Server]) -> list[JSON]:
    """Server Objects from URLs or dicts (``"https://api.example.com"`` is ``{"url": ...}``)."""
    return [{"url": server} if isinstance(server, str) else dict(server) for server in servers]


def tag_objects(declared: Sequence[Mapping[str, Any]], used: Iterable[str]) -> list[JSON]:
    """The declared tags first, in their order, then the other tags the routes use, in order of first use."""
    tags = [dict(tag) for tag in declared]
    named = {tag["name"] for tag in tags}
    tags.extend({"name": name} for name in used if name not in named)
    return tags

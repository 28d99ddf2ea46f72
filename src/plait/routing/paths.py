"""Parsing route path templates such as ``/users/{id:int}/posts/{slug}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from plait.exceptions import ConfigurationError
from plait.routing.converters import Converter, get_converter

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}$")
# Flask/Werkzeug's spelling, <name> or <converter:name>: refused, since as a literal it would silently 404.
_ANGLE = re.compile(r"^<(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)>$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One path segment: literal text, or a named parameter with its converter."""

    text: str
    name: str | None = None
    converter: Converter | None = None
    regex: re.Pattern[str] | None = None

    @property
    def is_path(self) -> bool:
        return self.converter is not None and self.converter.pattern == ".*"


@dataclass(frozen=True, slots=True)
class PathTemplate:
    path: str
    segments: tuple[Segment, ...]

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.segments if s.name)

    @property
    def is_static(self) -> bool:
        return not self.param_names

    def format(self, params: dict[str, Any]) -> str:
        parts = []
        for seg in self.segments:
            if seg.name is None:
                parts.append(seg.text)
            else:
                parts.append(seg.converter.to_url(params[seg.name]))  # type: ignore[union-attr]
        return "/" + "/".join(parts)


def parse_path(path: str) -> PathTemplate:
    """Parse and check a route path; errors name the path and the fix."""
    if not path.startswith("/"):
        raise ConfigurationError(f"Route path {path!r} must start with '/'; write '/{path}'.")
    raw = path[1:].split("/") if path != "/" else []
    if path != "/" and path.endswith("/"):
        raw = [*raw[:-1], ""]
    segments: list[Segment] = []
    seen: set[str] = set()
    for index, part in enumerate(raw):
        segment = _segment(path, part)
        if segment.name:
            if segment.name in seen:
                raise ConfigurationError(f"Route {path!r} names {{{segment.name}}} twice; rename one.")
            seen.add(segment.name)
            if segment.is_path and index != len(raw) - 1:
                raise ConfigurationError(f"Route {path!r}: a {{name:path}} parameter must be the last segment.")
        segments.append(segment)
    return PathTemplate(path, tuple(segments))


def _segment(path: str, part: str) -> Segment:
    match = _PARAM.match(part)
    if match is None:
        angle = _ANGLE.match(part)
        if angle is not None:
            kind, name = angle.groups()
            spelled = f"{{{name}:{kind}}}" if kind else f"{{{name}}}"
            raise ConfigurationError(
                f"Route {path!r}: {part!r} is Flask's spelling of a path parameter; Plait writes {spelled}."
            )
        if "{" in part or "}" in part:
            raise ConfigurationError(
                f"Route {path!r}: segment {part!r} is not a valid parameter; write a whole segment as "
                "{name} or {name:converter}."
            )
        return Segment(part)
    name, kind = match.groups()
    converter = get_converter(kind or "str", path)
    return Segment(part, name, converter, re.compile(converter.pattern))

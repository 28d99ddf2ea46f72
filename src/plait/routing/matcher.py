"""Finding the route for a path: a dict for static paths, a segment trie for the rest.

Both are built once at startup. A static path costs one dict lookup; a dynamic one costs a walk
over its segments, trying literal children before parameters (so ``/users/me`` beats
``/users/{id}``), never a loop over every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from plait.routing.paths import PathTemplate, Segment

T = TypeVar("T")
Params = dict[str, Any]


class _Node(Generic[T]):
    __slots__ = ("leaf", "literal", "params", "rest")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.params: list[tuple[Segment, _Node[T]]] = []
        self.rest: tuple[Segment, T] | None = None
        self.leaf: T | None = None


class Matcher(Generic[T]):
    """Maps path templates to values (route groups); ``match`` returns the value and converted params."""

    def __init__(self) -> None:
        self.static: dict[str, T] = {}
        self._root: _Node[T] = _Node()

    def add(self, template: PathTemplate, value: T) -> None:
        if template.is_static:
            self.static[template.path] = value
            return
        node = self._root
        for segment in template.segments:
            if segment.name is None:
                node = node.literal.setdefault(segment.text, _Node())
            elif segment.is_path:
                node.rest = (segment, value)
                return
            else:
                node = self._param_child(node, segment)
        node.leaf = value

    @staticmethod
    def _param_child(node: _Node[T], segment: Segment) -> _Node[T]:
        for existing, child in node.params:
            if existing.name == segment.name and existing.converter is segment.converter:
                return child
        child = _Node[T]()
        node.params.append((segment, child))
        return child

    def match(self, path: str) -> tuple[T, Params] | None:
        """The best match for ``path``: a static path first, then literal segments before parameters."""
        found = self.static.get(path)
        if found is not None:
            return found, {}
        if not path.startswith("/"):
            return None
        # PERF: a plain recursive search (no generators); parameters are collected on the way back.
        return self._first(self._root, path[1:].split("/") if path != "/" else [], 0)

    def _first(self, node: _Node[T], parts: list[str], index: int) -> tuple[T, Params] | None:
        if index == len(parts):
            if node.leaf is not None:
                return node.leaf, {}
            return self._first_rest(node, parts, index)
        part = parts[index]
        child = node.literal.get(part)
        if child is not None:
            found = self._first(child, parts, index + 1)
            if found is not None:
                return found
        for segment, param_child in node.params:
            if part and segment.regex.fullmatch(part):  # type: ignore[union-attr]
                try:
                    value = segment.converter.to_python(part)  # type: ignore[union-attr]
                except ValueError:
                    continue  # a converter may refuse what its pattern let through: no match, so 404
                found = self._first(param_child, parts, index + 1)
                if found is not None:
                    found[1][segment.name] = value  # type: ignore[index]
                    return found
        return self._first_rest(node, parts, index)

    @staticmethod
    def _first_rest(node: _Node[T], parts: list[str], index: int) -> tuple[T, Params] | None:
        if node.rest is None:
            return None
        segment, value = node.rest
        return value, {segment.name: segment.converter.to_python("/".join(parts[index:]))}  # type: ignore[dict-item,union-attr]

    def matches(self, path: str) -> Iterator[tuple[T, Params]]:
        """Every match for ``path``, best first (the dispatcher looks further when the method differs)."""
        found = self.static.get(path)
        if found is not None:
            yield found, {}
        if not path.startswith("/"):
            return
        parts = path[1:].split("/") if path != "/" else []
        yield from self._walk(self._root, parts, 0, {})

    def _walk(self, node: _Node[T], parts: list[str], index: int, params: Params) -> Iterator[tuple[T, Params]]:
        if index == len(parts):
            if node.leaf is not None:
                yield node.leaf, params
            elif node.rest is not None:
                yield from self._rest(node.rest, "", params)
            return
        part = parts[index]
        child = node.literal.get(part)
        if child is not None:
            yield from self._walk(child, parts, index + 1, params)
        for segment, param_child in node.params:
            if part and segment.regex.fullmatch(part):  # type: ignore[union-attr]
                try:
                    value = segment.converter.to_python(part)  # type: ignore[union-attr]
                except ValueError:
                    continue  # a converter may refuse what its pattern let through: no match, so 404
                yield from self._walk(param_child, parts, index + 1, {**params, segment.name: value})  # type: ignore[dict-item]
        if node.rest is not None:
            yield from self._rest(node.rest, "/".join(parts[index:]), params)

    @staticmethod
    def _rest(rest: tuple[Segment, T], remainder: str, params: Params) -> Iterator[tuple[T, Params]]:
        segment, value = rest
        yield value, {**params, segment.name: segment.converter.to_python(remainder)}  # type: ignore[dict-item,union-attr]

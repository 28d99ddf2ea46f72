"""Middleware declarations, applied once at startup to build a plain ASGI chain.

Ordering, as Starlette users expect it:

* ``Plait(middleware=[A, B])``: the first in the list is the outermost (A sees the request first);
* ``app.add_middleware(C)`` and ``@app.middleware("http")``: the last added is the outermost, so
  after the two calls ``add_middleware(C); add_middleware(D)`` the chain is ``D -> C -> A -> B -> app``.

``Router.user_middleware`` holds the declarations in chain order, outermost first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from plait._types import ASGIApp


class Middleware:
    """A middleware class and its options; ``Middleware(GZip, minimum_size=500)``.

    The class is called as ``cls(app, **options)`` and must return a plain ASGI app. The first
    middleware in a list is the outermost: it sees the request first and the response last.

    >>> Middleware(dict, level=1)
    Middleware(dict, {'level': 1})
    """

    __slots__ = ("cls", "options")

    def __init__(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        self.cls = cls
        self.options = options

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, **self.options)

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({name}, {self.options!r})"


def build_stack(app: ASGIApp, middleware: Sequence[Middleware]) -> ASGIApp:
    """Wrap ``app`` so that ``middleware[0]`` is outermost."""
    for item in reversed(middleware):
        app = item.wrap(app)
    return app

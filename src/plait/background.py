"""Work scheduled by a handler to run after its response has been sent."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("plait.background")
Runner = Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Awaitable[Any]]


class BackgroundTasks:
    """Ask for it in a handler (or provider) and add tasks; they run, in order, after the response.

    Each task's own ``Depends`` parameters are resolved by the app's container, so a task can ask
    for a database session like any handler. A failing task is logged; later tasks still run.
    If the handler fails (it raises, and an error response is sent), its tasks are dropped.

    >>> from plait import Plait
    >>> app = Plait()
    >>> def send_welcome(address: str) -> None: ...
    >>> @app.post("/signup")
    ... def signup(address: str, tasks: BackgroundTasks) -> dict[str, str]:
    ...     tasks.add_task(send_welcome, address)
    ...     return {"status": "ok"}
    """

    __slots__ = ("tasks",)

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Schedule ``fn(*args, **kwargs)`` (sync or async) for after the response."""
        try:
            signature = inspect.signature(fn)
        except ValueError:  # some builtins (max, dict.update) publish none: nothing to check
            pass
        else:
            signature.bind_partial(*args, **kwargs)  # fail now, in the handler, on a bad call
        self.tasks.append((fn, args, kwargs))

    async def run(self, runner: Runner) -> None:
        """Run every task, in order, as ``runner(fn, args, kwargs)`` (the app's, which fills Depends)."""
        for fn, args, kwargs in self.tasks:
            try:
                await runner(fn, args, kwargs)
            except Exception:
                logger.exception("Background task %s failed", getattr(fn, "__qualname__", fn))

    def __len__(self) -> int:
        return len(self.tasks)

"""``plait shell``: Python with the app running, its settings, and what its extensions offer (``db``, the models).

The app's lifespan runs on an event loop in a background thread for as long as the shell is open,
so its engines and pools exist. Code typed at the prompt may use ``await`` at the top level: it is
sent to that loop (IPython through its ``loop_runner``; the standard REPL compiles with top-level
await allowed, as ``python -m asyncio`` does)::

    $ plait shell
    Plait shell: app, settings, Article, db, engine, database, select, func (top-level await works: ...)
    ... await db.scalar(select(func.count()).select_from(Article))
    3
"""

from __future__ import annotations

import ast
import asyncio
import code
import concurrent.futures
import contextlib
import importlib
import importlib.util
import inspect
import sys
import threading
import types
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

T = TypeVar("T")
APP_VAR = "PLAIT_APP"


class AppLoop:
    """The app running on its own event loop in a daemon thread; :meth:`run` awaits a coroutine there."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.names: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: Exception | None = None
        self._ready: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True, name="plait-shell")

    def __enter__(self) -> AppLoop:
        self._thread.start()
        try:
            self.names = self._ready.result()
        except Exception as exc:
            self._thread.join()
            raise click.ClickException(f"The app failed to start: {type(exc).__name__}: {exc}") from exc
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        if self._failure is not None:
            failure = self._failure
            raise click.ClickException(f"The app failed to shut down: {type(failure).__name__}: {failure}")

    async def _hold(self) -> None:
        # One task enters and leaves the lifespan: anyio's cancel scopes must close in the task that opened them.
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with self.app.running(), contextlib.AsyncExitStack() as stack:
                names: dict[str, Any] = {}
                for ext in self.app.extensions:
                    manager = ext.shell_context(self.app)
                    if manager is not None:
                        names.update(await stack.enter_async_context(manager))
                self._ready.set_result(names)
                await self._stop.wait()
        except Exception as exc:
            self._failure = exc
            if not self._ready.done():
                self._ready.set_exception(exc)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the app's loop and wait for it; Ctrl-C cancels it."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:  # pragma: no cover - Ctrl-C at the prompt
            future.cancel()
            raise


def execute(compiled: types.CodeType, namespace: dict[str, Any], loop: AppLoop) -> None:
    """Run code compiled with top-level await allowed: a coroutine goes to the app's loop."""
    if compiled.co_flags & inspect.CO_COROUTINE:
        loop.run(types.FunctionType(compiled, namespace)())
    else:
        exec(compiled, namespace)  # noqa: S102 - a shell runs what its user types


class AsyncConsole(code.InteractiveConsole):
    """The standard REPL, with ``await`` allowed at the prompt."""

    def __init__(self, namespace: dict[str, Any], loop: AppLoop) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop

    def runcode(self, code: types.CodeType) -> None:
        try:
            execute(code, self.locals, self.loop)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def banner(namespace: dict[str, Any]) -> str:
    """The greeting: what is loaded and how to await.

    >>> print(banner({"app": 1, "db": 2, "__builtins__": {}}))
    Plait shell: app, db (top-level await works: await db.scalars(select(Model)))
    """
    names = ", ".join(name for name in namespace if not name.startswith("_"))
    return f"Plait shell: {names} (top-level await works: await db.scalars(select(Model)))"


def _ipython(namespace: dict[str, Any], loop: AppLoop, greeting: str) -> None:
    # Imported by name: IPython is optional, and neither package is a dependency of Plait.
    ipython = importlib.import_module("IPython")
    config = importlib.import_module("traitlets.config").Config()
    config.InteractiveShell.autoawait = True
    global _running  # IPython deep-copies its config, so the runner is named by a string, not passed
    _running = loop
    config.InteractiveShell.loop_runner = f"{__name__}.run_on_app_loop"  # awaits run where the engine lives
    config.InteractiveShell.banner2 = greeting + "\n"
    config.TerminalIPythonApp.display_banner = True
    try:
        ipython.start_ipython(argv=[], user_ns=namespace, config=config)
    finally:
        _running = None


_running: AppLoop | None = None


def has_ipython() -> bool:
    """Whether IPython is installed (``plait shell`` then uses it unless ``--plain``).

    >>> has_ipython() in (True, False)
    True
    """
    return importlib.util.find_spec("IPython") is not None


def run_on_app_loop(coro: Coroutine[Any, Any, T]) -> T:
    """IPython's ``loop_runner``: run a cell's coroutine on the loop of the app ``plait shell`` started."""
    if _running is None:
        raise RuntimeError("plait shell has not started an app, so there is no loop to run on.")
    return _running.run(coro)


def _load(spec: str | None, factory: bool) -> Any:
    from plait.cli.extensions import built_app

    return built_app(spec, refusal="; plait shell needs one", factory=factory)


@click.command()
@click.argument("app", required=False, metavar="[APP]")
@click.option("--factory", is_flag=True, help="APP is a function that returns the app; call it.")
@click.option("--plain", is_flag=True, help="The standard Python REPL, even when IPython is installed.")
@click.option("-c", "--command", "source", default=None, help="Run this code (await allowed) and exit.")
def shell(app: str | None, factory: bool, plain: bool, source: str | None) -> None:
    """Python with APP running: app, settings, and its extensions' names (db, the models).

    APP defaults to PLAIT_APP, then app.py or main.py here. IPython is used when installed.
    """
    application = _load(app, factory)
    with AppLoop(application) as loop:
        namespace: dict[str, Any] = {"app": application, "settings": application.settings, **loop.names}
        greeting = banner(namespace)
        if source is not None:
            try:
                execute(compile(source, "<plait shell -c>", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace, loop)
            except Exception:
                import traceback

                traceback.print_exc()
                sys.exit(1)
        elif not plain and has_ipython():
            _ipython(namespace, loop, greeting)
        else:
            AsyncConsole(namespace, loop).interact(greeting, exitmsg="")

"""Starting an ASGI server on a Plait app: granian (the default) or uvicorn.

Both import the app themselves from ``"module:attr"``, in each worker process, and run its
lifespan (startup and shutdown). Both run on uvloop where it is installed (a Plait dependency
everywhere but Windows), and both get the app's ``Settings.max_header_size`` as their own limit
on the request head where they have one (granian's HTTP/1 buffer and HTTP/2 header list,
uvicorn's h11 event size), plus room for the request line, so a far oversized head is refused
(431) before it reaches Python. Those server limits are approximate, so Plait counts the headers
itself as well and answers 431 with a problem document, whatever the server.

>>> config = ServerConfig("app:app", Path("."), host="127.0.0.1", port=8000, reload=True)
>>> start_server("granian", config)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["SERVERS", "ServerConfig", "event_loop", "server_versions", "start_server"]


@dataclass(frozen=True)
class ServerConfig:
    """What to serve and how: the import string, the directory it imports from, the socket, the mode."""

    target: str
    app_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    reload: bool = False
    workers: int = 1
    factory: bool = False
    max_header_size: int = 64 * 1024
    """The app's ``Settings.max_header_size``, passed on to the server."""


# Room for the request line and the blank line that ends the head, on top of the headers themselves;
# also the smallest HTTP/1 buffer granian (hyper) accepts.
HEAD_SLACK = 8 * 1024


def event_loop() -> str:
    """The event loop to run on: ``"uvloop"`` where it is installed (never on Windows), else ``"auto"``."""
    if sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None:
        return "uvloop"
    return "auto"


def _can_watch_files() -> bool:
    """Whether granian's auto-reload can run (it watches files with the watchfiles package)."""
    return importlib.util.find_spec("watchfiles") is not None


# Files an app writes while it runs (SQLite databases and their journals, logs): a change to them is not a code
# change, and reloading on it would restart the app on every database write. Matched against file names.
RUNTIME_FILES = (r"\.(sqlite3?|db)(-wal|-shm|-journal)?$", r"\.log$")


def _run_granian(config: ServerConfig) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings, HTTP2Settings

    reload = config.reload
    if reload and not _can_watch_files():
        click.echo(
            "Auto-reload with granian needs the watchfiles package: pip install 'granian[reload]' "
            "(or use --server uvicorn). Serving without auto-reload.",
            err=True,
        )
        reload = False
    server = Granian(
        config.target,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,  # the ASGI interface that runs the lifespan
        workers=config.workers,
        reload=reload,
        reload_paths=[config.app_dir],
        reload_ignore_patterns=list(RUNTIME_FILES),
        factory=config.factory,
        working_dir=config.app_dir,
        loop=Loops(event_loop()),
        # The HTTP/1 read buffer bounds the request head (431 beyond it); HTTP/2 bounds the header list.
        http1_settings=HTTP1Settings(max_buffer_size=config.max_header_size + HEAD_SLACK),
        http2_settings=HTTP2Settings(max_headers_size=config.max_header_size + HEAD_SLACK),
    )
    server.serve()


def _run_uvicorn(config: ServerConfig) -> None:
    try:
        import uvicorn
    except ImportError:
        raise click.ClickException(
            "--server uvicorn needs uvicorn, which is not installed. Install it with "
            "pip install 'plait[uvicorn]', or leave out --server to use granian."
        ) from None
    # uvicorn shuts down gracefully on SIGTERM (in-flight requests finish), then raises the signal again
    # so that the process dies of it: exit status 143, which process managers read as a crash. A stop
    # that was asked for is a success, so the repeated signal is absorbed and `plait serve` exits 0.
    previous = signal.signal(signal.SIGTERM, _absorb)
    try:
        _uvicorn_run(uvicorn, config)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _absorb(signum: int, frame: object) -> None:
    """A SIGTERM handler that does nothing: the server has already stopped when it runs."""


def _uvicorn_run(uvicorn: Any, config: ServerConfig) -> None:
    uvicorn.run(
        config.target,
        host=config.host,
        port=config.port,
        reload=config.reload,
        reload_dirs=[str(config.app_dir)] if config.reload else None,
        workers=config.workers,
        factory=config.factory,
        app_dir=str(config.app_dir),
        lifespan="auto",
        loop=event_loop(),
        # Only the h11 parser has a limit to set; httptools (uvicorn[standard]) has a fixed one of its own.
        h11_max_incomplete_event_size=config.max_header_size + HEAD_SLACK,
    )


SERVERS: dict[str, Callable[[ServerConfig], None]] = {"granian": _run_granian, "uvicorn": _run_uvicorn}
"""The servers ``--server`` accepts, by name."""


def start_server(name: str, config: ServerConfig) -> None:
    """Run the server called ``name`` on ``config`` until it is stopped (Ctrl+C or SIGTERM)."""
    runner = SERVERS.get(name)
    if runner is None:
        raise click.ClickException(f"Unknown server {name!r}; choose one of {', '.join(SERVERS)}.")
    runner(config)


def server_versions() -> dict[str, str]:
    """The installed version of each server, or ``"not installed"``."""
    versions: dict[str, str] = {}
    for name in SERVERS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions

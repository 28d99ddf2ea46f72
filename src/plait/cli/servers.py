"""Starting an ASGI server on a Plait app: granian (the default) or uvicorn.

Both import the app themselves from ``"module:attr"``, in each worker process, and run its
lifespan (startup and shutdown).

>>> config = ServerConfig("app:app", Path("."), host="127.0.0.1", port=8000, reload=True)
>>> start_server("granian", config)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

__all__ = ["SERVERS", "ServerConfig", "server_versions", "start_server"]


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


def _can_watch_files() -> bool:
    """Whether granian's auto-reload can run (it watches files with the watchfiles package)."""
    return importlib.util.find_spec("watchfiles") is not None


def _run_granian(config: ServerConfig) -> None:
    from granian import Granian
    from granian.constants import Interfaces

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
        factory=config.factory,
        working_dir=config.app_dir,
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

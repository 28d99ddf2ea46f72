"""``plait db ...``: database commands, offered by the ``plait`` CLI when ``Database`` is installed."""

from __future__ import annotations

import time
from typing import Any

import anyio
import click
from sqlalchemy import text

from plait.exceptions import HTTPException


@click.group(name="db")
def db_group() -> None:
    """Database commands (from plait.db.Database)."""


@db_group.command()
@click.pass_obj
def check(app: Any) -> None:
    """Connect to the database and report the server and the round-trip time."""
    ext = app.extensions["database"]
    try:
        version, elapsed = anyio.run(_probe, app)
    except (HTTPException, OSError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        raise click.ClickException(f"Cannot reach {ext.url.render_as_string()}: {detail}") from None
    click.echo(f"OK {ext.url.render_as_string()} ({version}) in {elapsed * 1000:.1f} ms")


async def _probe(app: Any) -> tuple[str, float]:
    ext = app.extensions["database"]
    async with app.running():
        started = time.perf_counter()
        try:
            async with ext.engine.connect() as connection:
                dialect = connection.dialect
                query = "select sqlite_version()" if dialect.name == "sqlite" else "show server_version"
                version = (await connection.execute(text(query))).scalar_one()
        except Exception:
            # After a failed connect aiosqlite stops its worker thread without waiting for it; give the
            # thread a moment to report back before this command closes the event loop under it.
            await anyio.sleep(0.1)
            raise
        return f"{dialect.name} {version}", time.perf_counter() - started

"""``plait sessions ...``: session commands, offered by the ``plait`` CLI when ``Sessions`` is installed.

::

    plait sessions clear-expired     # delete expired sessions (the database store; run it from cron)
"""

from __future__ import annotations

from typing import Any

import anyio
import click


@click.group(name="sessions")
def sessions_group() -> None:
    """Session commands (from plait.sessions.Sessions)."""


@sessions_group.command(name="clear-expired")
@click.pass_obj
def clear_expired(app: Any) -> None:
    """Delete the sessions that have expired (stores that do not expire them by themselves)."""
    store = app.extensions["sessions"].store
    count = anyio.run(_clear, app)
    if count is None:
        click.echo(f"{type(store).__name__} expires sessions by itself; there is nothing to clear.")
    else:
        click.echo(f"Deleted {count} expired session(s).")


async def _clear(app: Any) -> int | None:
    async with app.running():
        count: int | None = await app.extensions["sessions"].store.clear_expired()
        return count

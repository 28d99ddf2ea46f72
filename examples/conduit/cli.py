"""``plait conduit seed``: the app's own command, offered through the extension protocol like ``plait db``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import click
from sqlalchemy.ext.asyncio import AsyncSession

from plait.extensions import Extension

__all__ = ["ConduitCommands", "conduit_group"]


@click.group(name="conduit")
def conduit_group() -> None:
    """Conduit's commands: demo data."""


@conduit_group.command()
@click.pass_obj
def seed(app: Any) -> None:
    """Add demo members, articles, comments, follows and favorites (only into an empty database)."""
    from conduit.seed import ADMIN, PASSWORD
    from conduit.seed import seed as add_demo_data

    async def run() -> bool:
        async with app.running(), AsyncSession(app.extensions["database"].engine, expire_on_commit=False) as db:
            added = await add_demo_data(app.extensions["auth"], db)
            await db.commit()
            return added

    app.build()
    if anyio.run(run):
        click.echo(f"Demo data added; every demo account's password is {PASSWORD!r}.")
    else:
        click.echo("The database has members already; no demo data added.")
    click.echo(f"Demo superuser: {ADMIN['email']} / {PASSWORD}")


class ConduitCommands(Extension):
    """Contributes ``plait conduit ...`` to the CLI (an app's own commands, like a battery's)."""

    name = "conduit"

    def commands(self) -> Sequence[click.Command]:
        return [conduit_group]

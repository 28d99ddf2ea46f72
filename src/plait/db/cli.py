"""``plait db ...``: database and migration commands, offered by the ``plait`` CLI when ``Database`` is installed.

::

    plait db init                          # migrations/ next to the app: plain Alembic files
    plait db makemigrations -m "add items" # autogenerate a revision from the models
    plait db migrate                       # upgrade to the newest revision (or: plait db migrate <rev>)
    plait db downgrade                     # one step back (or: plait db downgrade <rev>)
    plait db history / plait db current
    plait db check                         # connects; fails when the models and the migrations differ
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import anyio
import click
from sqlalchemy import text

from plait.exceptions import HTTPException

if TYPE_CHECKING:
    from alembic.config import Config

    from plait.db.extension import Database


@click.group(name="db")
def db_group() -> None:
    """Database commands (from plait.db.Database): migrations and checks."""


@db_group.command()
@click.pass_obj
def check(app: Any) -> None:
    """Connect and report the server; fail when the models differ from the migrations (for CI)."""
    ext = app.extensions["database"]
    try:
        version, elapsed = anyio.run(_probe, app)
    except (HTTPException, OSError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        raise click.ClickException(f"Cannot reach {ext.url.render_as_string()}: {detail}") from None
    click.echo(f"OK {ext.url.render_as_string()} ({version}) in {elapsed * 1000:.1f} ms")
    if not (ext.migrations / "env.py").is_file():
        click.echo(f"No migrations folder at {ext.migrations}, so there is nothing to compare (plait db init).")
        return
    from plait.db import migrations

    with _alembic(ext) as config:
        changes = migrations.run_connected(config, migrations.pending_changes)
    if changes:
        listed = "".join(f"\n  {change}" for change in changes)
        raise click.ClickException(
            f"The models differ from the migrations:{listed}\n"
            'Write a migration for them: plait db makemigrations -m "describe the change"'
        )
    click.echo(f"The models match the migrations (head {', '.join(migrations.heads(config)) or 'none'}).")


@db_group.command()
@click.pass_obj
def init(app: Any) -> None:
    """Create the migrations folder (plain Alembic files; the URL and models come from the app)."""
    from plait.db import migrations

    folder = app.extensions["database"].migrations
    try:
        migrations.init(folder)
    except migrations.MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {folder}")
    click.echo('Next: plait db makemigrations -m "create tables", then plait db migrate')


@db_group.command()
@click.option("-m", "--message", default="auto", show_default=True, help="What the migration does.")
@click.pass_obj
def makemigrations(app: Any, message: str) -> None:
    """Write a migration for the differences between the models and the database."""
    from plait.db import migrations

    with _alembic(app.extensions["database"]) as config:
        path = migrations.run_connected(config, lambda cfg: migrations.make(cfg, message))
    click.echo("No changes detected." if path is None else f"Created {path}")


@db_group.command()
@click.argument("revision", default="heads")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (for a DBA).")
@click.pass_obj
def migrate(app: Any, revision: str, sql: bool) -> None:
    """Apply the migrations up to REVISION (default: the newest, heads, with the batteries' own)."""
    from alembic import command

    from plait.db import migrations

    with _alembic(app.extensions["database"]) as config:
        if sql:
            command.upgrade(config, revision, sql=True)
        else:
            migrations.run_connected(config, lambda cfg: command.upgrade(cfg, revision))


@db_group.command()
@click.argument("revision", default="-1")
@click.pass_obj
def downgrade(app: Any, revision: str) -> None:
    """Revert migrations down to REVISION (default: one step back, -1; base reverts all)."""
    from alembic import command

    from plait.db import migrations

    with _alembic(app.extensions["database"]) as config:
        migrations.run_connected(config, lambda cfg: command.downgrade(cfg, revision))


@db_group.command()
@click.option("-v", "--verbose", is_flag=True, help="Show each revision's details.")
@click.pass_obj
def history(app: Any, verbose: bool) -> None:
    """List the migrations, newest first."""
    from alembic import command

    with _alembic(app.extensions["database"]) as config:
        command.history(config, verbose=verbose)


@db_group.command()
@click.pass_obj
def current(app: Any) -> None:
    """Show the revision the database is at."""
    from alembic import command

    from plait.db import migrations

    with _alembic(app.extensions["database"]) as config:
        migrations.run_connected(config, command.current)
        if not cast(io.StringIO, config.stdout).getvalue().strip():
            click.echo("No migration applied yet (plait db migrate applies them).")


@contextmanager
def _alembic(database: Database) -> Iterator[Config]:
    """An Alembic config for the app; its output is echoed, its errors become messages that say what to do."""
    from alembic.util import CommandError

    from plait.db import migrations

    out = io.StringIO()
    try:
        try:
            yield migrations.config_for(database, out)
        finally:
            click.echo(out.getvalue(), nl=False)
    except migrations.MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    except CommandError as exc:
        raise click.ClickException(_explain(str(exc))) from None
    except (HTTPException, OSError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        assert database.url is not None
        raise click.ClickException(f"Cannot reach {database.url.render_as_string()}: {detail}") from None


_HINTS: dict[str, Callable[[str], str]] = {
    "Target database is not up to date": lambda m: f"{m} Apply the migrations first: plait db migrate",
    "Can't locate revision": lambda m: f"{m} List the revisions with: plait db history",
}


def _explain(message: str) -> str:
    for start, hint in _HINTS.items():
        if message.startswith(start):
            return hint(message)
    return message


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

"""``plait graphql ...``: the schema as SDL, and a CI check that it matches a committed file.

::

    plait graphql schema                         # print the SDL of the app's schema
    plait graphql schema app:app > schema.graphql
    plait graphql check --file schema.graphql    # exit 1 (with a diff) when the schema changed
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import click


@click.group(name="graphql")
def graphql_group() -> None:
    """GraphQL commands (from plait.graphql.GraphQL): print and check the schema."""


def _sdl(app: Any, spec: str | None) -> str:
    if spec is not None:
        from plait.cli.extensions import built_app

        app = built_app(spec, refusal=", so it has no GraphQL schema")
    try:
        ext = app.extensions["graphql"]
    except KeyError:
        raise click.ClickException("The app has no GraphQL schema: app.install(GraphQL(schema)).") from None
    return str(ext.schema.as_str()).rstrip("\n") + "\n"


@graphql_group.command()
@click.argument("app_spec", required=False, metavar="[APP]")
@click.pass_obj
def schema(app: Any, app_spec: str | None) -> None:
    """Print the schema in the GraphQL schema definition language (APP: module:attr, else PLAIT_APP)."""
    click.echo(_sdl(app, app_spec), nl=False)


@graphql_group.command()
@click.argument("app_spec", required=False, metavar="[APP]")
@click.option(
    "--file", "path", default="schema.graphql", show_default=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.pass_obj
def check(app: Any, app_spec: str | None, path: Path) -> None:
    """Fail when the schema differs from FILE (commit the SDL; run this in CI)."""
    current = _sdl(app, app_spec)
    if not path.is_file():
        raise click.ClickException(f"No schema file at {path}; write one: plait graphql schema > {path}")
    committed = path.read_text(encoding="utf-8")
    if committed == current:
        click.echo(f"The schema matches {path}.")
        return
    diff = "".join(difflib.unified_diff(committed.splitlines(True), current.splitlines(True), str(path), "app"))
    raise click.ClickException(
        f"The schema differs from {path}:\n{diff}Update it if the change is meant: plait graphql schema > {path}"
    )

"""Commands contributed by the app's extensions: ``plait db check`` comes from ``Database``.

The ``plait`` group looks a command up among its own first. Any other name is looked up in the
commands of the app's installed extensions; the app is ``PLAIT_APP`` (as ``module:attr`` or a
path, like the APP argument of ``plait run``), else ``app.py`` or ``main.py`` here. The app is
built (its settings loaded and checked) before the command runs, and the command receives it as
click's context object (``@click.pass_obj``).
"""

from __future__ import annotations

import os
from typing import Any

import click

import plait.cli.discovery as discovery
from plait.exceptions import ConfigurationError

APP_VAR = "PLAIT_APP"
_KEY = "plait.app"


class PlaitGroup(click.Group):
    """A click group that also offers the app's extension commands."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        app = load_app(ctx)
        for candidate in app.extensions.commands():
            if candidate.name == cmd_name:
                found: click.Command = candidate
                return found
        names = ", ".join(sorted(c.name or "?" for c in app.extensions.commands())) or "none"
        raise click.UsageError(f"No such command {cmd_name!r} (the app's extensions add: {names}).", ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        try:
            app = load_app(ctx)
        except click.ClickException:  # --help outside a project still lists the built-in commands
            return own
        return own + sorted(c.name for c in app.extensions.commands() if c.name and c.name not in own)


def load_app(ctx: click.Context) -> Any:
    """The Plait app named by ``PLAIT_APP`` (or found here), built once per command line."""
    root = ctx.find_root()
    if _KEY in root.meta:
        return root.meta[_KEY]
    try:
        app = built_app(None, refusal=", so it has no extension commands")
    except discovery.DiscoveryError as exc:
        raise click.ClickException(
            f"Extension commands come from the app's extensions, and no app was found: {exc} "
            f"Set {APP_VAR}=myproject.app:app (or run this where app.py is)."
        ) from None
    root.meta[_KEY] = app
    root.obj = app
    return app


def built_app(spec: str | None, *, refusal: str, factory: bool = False) -> Any:
    """The Plait app named by ``spec`` (else ``PLAIT_APP``, else found here), compiled; errors say what to fix.

    ``refusal`` ends the message when the object found is not a Plait app. Discovery errors pass through.
    """
    from plait.app import Plait

    ref, app = discovery.discover(spec or os.environ.get(APP_VAR) or None, factory=factory)
    if not isinstance(app, Plait):
        raise click.ClickException(f"{ref.describe()} is not a Plait app{refusal}.")
    try:
        app.build()
    except ConfigurationError as exc:
        raise click.ClickException(f"{ref.import_string} is misconfigured: {exc}") from None
    return app

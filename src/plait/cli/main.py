"""The ``plait`` command: run an app for development, serve it in production, list its routes.

::

    plait run                          # app.py or main.py here, auto-reload, 127.0.0.1:8000
    plait run myproject.app:app --port 9000
    plait serve myproject.app:app --workers 4
    plait routes examples/hello/app.py
    plait openapi examples/hello/app.py --format yaml --output openapi.yaml
    plait shell                        # Python with the app running (await works at the prompt)
    plait version
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

import plait.cli.discovery as discovery
import plait.cli.servers as servers
from plait.cli.extensions import PlaitGroup
from plait.cli.shell import shell
from plait.exceptions import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])

SECRET_VAR = "PLAIT_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@click.group(name="plait", cls=PlaitGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Plait: run, serve and inspect Plait applications.

    APP is module:attr, a module (attribute app), path/to/file.py or path/to/file.py:attr.
    Left out, app.py and then main.py in the current directory are tried.
    Other commands (plait db ...) come from the extensions of the app named by PLAIT_APP.
    """


def _app_options(fn: F) -> F:
    return click.option(
        "--factory", is_flag=True, help="APP names a function that returns the app; call it with no arguments."
    )(fn)


def _server_options(default_host: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        fn = click.option(
            "--server",
            type=click.Choice(sorted(servers.SERVERS)),
            default="granian",
            show_default=True,
            help="The ASGI server to run the app on.",
        )(fn)
        fn = click.option(
            "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on."
        )(fn)
        fn = click.option("--host", default=default_host, show_default=True, help="Address to listen on.")(fn)
        return _app_options(fn)

    return decorate


@main.command()
@click.argument("app", required=False, metavar="[APP]")
@_server_options("127.0.0.1")
@click.option("--reload/--no-reload", default=True, show_default=True, help="Restart when a source file changes.")
def run(app: str | None, host: str, port: int, server: str, factory: bool, reload: bool) -> None:
    """Run APP for development: auto-reload, and a temporary secret key if none is set.

    Use `plait serve` in production.
    """
    _ensure_dev_secret()
    ref, application = discovery.discover(app, factory=factory)
    _check(ref, application)
    _start(ref, server, host, port, reload=reload, workers=1, application=application)


@main.command()
@click.argument("app")
@_server_options("0.0.0.0")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
def serve(app: str, host: str, port: int, server: str, factory: bool, workers: int) -> None:
    """Serve APP in production: no reload, several workers, a secret key required.

    Set PLAIT_SECRET_KEY (in the environment or .env) before starting.
    """
    ref, application = discovery.discover(app, factory=factory)
    _require_secret(ref, application)
    _check(ref, application)
    _start(ref, server, host, port, reload=False, workers=workers, application=application)


@main.command()
@click.argument("app", required=False, metavar="[APP]")
@_app_options
def routes(app: str | None, factory: bool) -> None:
    """List APP's routes: methods, path, name and handler."""
    from plait.app import Plait

    ref, application = discovery.discover(app, factory=factory)
    if not isinstance(application, Plait):
        raise click.ClickException(
            f"{ref.describe()} is a {type(application).__name__}, not a Plait app; only Plait apps have a "
            "route table to list."
        )
    try:
        rows = application.routes_table()
    except ConfigurationError as exc:
        raise click.ClickException(f"{ref.import_string} is misconfigured: {exc}") from None
    table = [(",".join(row.methods), row.path, row.name, row.endpoint) for row in rows]
    click.echo(format_table(("METHODS", "PATH", "NAME", "ENDPOINT"), table) if table else "No routes.")


@main.command()
@click.argument("app", required=False, metavar="[APP]")
@_app_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "yaml"]),
    default="json",
    show_default=True,
    help="JSON, or YAML (needs PyYAML).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file instead of standard output.",
)
def openapi(app: str | None, factory: bool, output_format: str, output: Path | None) -> None:
    """Print APP's OpenAPI 3.1 document, built from its routes."""
    from plait.app import Plait

    ref, application = discovery.discover(app, factory=factory)
    if not isinstance(application, Plait):
        raise click.ClickException(
            f"{ref.describe()} is a {type(application).__name__}, not a Plait app; only Plait apps can describe "
            "their routes in an OpenAPI document."
        )
    try:
        document = application.openapi()  # what the app serves, customised or not
    except ConfigurationError as exc:
        raise click.ClickException(f"{ref.import_string} is misconfigured: {exc}") from None
    text = _dump_yaml(document) if output_format == "yaml" else json.dumps(document, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}.") from None
    click.echo(f"Wrote the OpenAPI document of {ref.import_string} to {output}", err=True)


def _dump_yaml(document: dict[str, Any]) -> str:
    try:
        import yaml
    except ImportError:
        raise click.ClickException(
            "--format yaml needs PyYAML; install it with pip install pyyaml, or use --format json."
        ) from None
    # A JSON round trip leaves plain dicts and lists, each its own object, so no YAML anchors appear.
    plain = json.loads(json.dumps(document))
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=120).rstrip("\n")


main.add_command(shell)


@main.command()
def version() -> None:
    """Show the versions of Plait, Python and the servers."""
    try:
        plait_version = importlib.metadata.version("plait")
    except importlib.metadata.PackageNotFoundError:
        plait_version = "unknown (not installed as a package)"
    click.echo(f"Plait {plait_version}")
    click.echo(f"Python {platform.python_version()} ({platform.python_implementation()})")
    for name, installed in servers.server_versions().items():
        click.echo(f"{name} {installed}")


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, under ``header``.

    >>> print(format_table(("A", "BB"), [("xyz", "1")]))
    A    BB
    xyz  1
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *rows)
    ]
    return "\n".join(lines)


def _ensure_dev_secret() -> None:
    """Give the development server a random secret key when none is configured."""
    from plait.settings import read_env_file

    try:
        configured = os.environ.get(SECRET_VAR) or read_env_file(".env").get(SECRET_VAR)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    if configured:
        return
    os.environ[SECRET_VAR] = secrets.token_urlsafe(32)  # inherited by the server and its workers
    click.echo(
        f"{SECRET_VAR} is not set, so a random one was generated for this development server; "
        f"sessions signed with it end when the server stops. Set {SECRET_VAR} to keep them.",
        err=True,
    )


def _require_secret(ref: discovery.AppRef, application: Any) -> None:
    settings = getattr(application, "settings", None)
    if settings is None or getattr(settings, "secret_key", None):
        return
    raise click.ClickException(
        f"Refusing to serve {ref.import_string}: it has no secret key, so sessions and signed tokens "
        f"would be forgeable. Set {SECRET_VAR} in the environment (or in .env) to a long random value, "
        f"the same for every worker and restart. Generate one with:\n\n"
        f'    export {SECRET_VAR}="$({_GENERATE})"\n\n'
        "For development without one, use `plait run`."
    )


def _check(ref: discovery.AppRef, application: Any) -> None:
    """Compile a Plait app now, so configuration errors show before the server starts."""
    from plait.app import Plait

    if isinstance(application, Plait):
        try:
            application.build()
        except ConfigurationError as exc:
            raise click.ClickException(f"{ref.import_string} is misconfigured: {exc}") from None


def _start(
    ref: discovery.AppRef, server: str, host: str, port: int, *, reload: bool, workers: int, application: Any = None
) -> None:
    discovery.export_pythonpath(ref.directory)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Plait serving http://{shown}:{port}" + (" (all interfaces)" if host in ("0.0.0.0", "::") else ""))
    config = servers.ServerConfig(
        ref.import_string,
        ref.directory,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        factory=ref.factory,
        max_header_size=_max_header_size(application),
    )
    servers.start_server(server, config)


def _max_header_size(application: Any) -> int:
    """The app's ``Settings.max_header_size``, or Plait's default for apps without Plait settings."""
    from plait.settings import Settings

    settings = getattr(application, "settings", None)
    return int(getattr(settings, "max_header_size", Settings().max_header_size))

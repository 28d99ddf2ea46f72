"""``plait createsuperuser`` and ``plait changepassword``, offered when ``Auth`` is installed.

::

    plait createsuperuser                                   # asks for username, email, password
    PLAIT_SUPERUSER_PASSWORD=... plait createsuperuser --no-input --username admin --email admin@example.com
    plait changepassword admin                              # asks twice for the new password

The password rules apply (a prompt asks again; ``--no-input`` fails with the reasons). Run
``plait db migrate`` first: the commands need the auth tables.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import anyio
import click
from sqlalchemy import exc as sa_exc
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.passwords import PasswordTooLong
from plait.auth.validators import PasswordValidationError

if TYPE_CHECKING:
    from plait.auth.extension import Auth

__all__ = ["PASSWORD_VAR", "changepassword", "createsuperuser"]

PASSWORD_VAR = "PLAIT_SUPERUSER_PASSWORD"  # noqa: S105 - the name of the variable, not a password


def _auth(app: Any) -> Auth:
    auth: Auth = app.extensions["auth"]
    return auth


def _rules_problem(auth: Auth, password: str, username: str, email: str) -> str | None:
    """What is wrong with ``password``, in words, or None."""
    try:
        auth.hasher.check_length(password)
        auth.check_password_rules(password, {"username": username, "email": email})
    except (PasswordValidationError, PasswordTooLong) as exc:
        return str(exc)
    return None


def _ask_password(auth: Auth, username: str, email: str) -> str:
    """Prompt (hidden, twice) until the password keeps the rules."""
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Password (again)")
        problem = _rules_problem(auth, password, username, email)
        if problem is None:
            return str(password)
        click.echo(f"Error: {problem}", err=True)


async def _in_database(app: Any, action: Any) -> Any:
    """Run ``action(session)`` inside the running app, committing at the end."""
    async with app.running():
        database = app.extensions["database"]
        async with AsyncSession(database.engine, expire_on_commit=False) as db:
            try:
                result = await action(db)
            except sa_exc.OperationalError as exc:
                raise click.ClickException(
                    f"The auth tables are not there ({exc.orig}); create them first: plait db migrate"
                ) from None
            await db.commit()
            return result


@click.command()
@click.option("--username", help="The new account's username.")
@click.option("--email", help="The new account's email.")
@click.option(
    "--no-input", "no_input", is_flag=True, help=f"Ask nothing: take --username, --email and ${PASSWORD_VAR}."
)
@click.pass_obj
def createsuperuser(app: Any, username: str | None, email: str | None, no_input: bool) -> None:
    """Create an account with every permission (is_staff and is_superuser)."""
    auth = _auth(app)
    app.build()
    if no_input:
        password = os.environ.get(PASSWORD_VAR, "")
        if not username or not email or not password:
            raise click.UsageError(f"--no-input needs --username, --email and the {PASSWORD_VAR} variable.")
        problem = _rules_problem(auth, password, username, email)
        if problem is not None:
            raise click.ClickException(f"{PASSWORD_VAR} is refused: {problem}")
    else:
        username = str(username or click.prompt("Username"))
        email = str(email or click.prompt("Email"))
        password = _ask_password(auth, username, email)

    async def create(db: AsyncSession) -> Any:
        model = auth.user_model
        taken = select(model.id).where(or_(model.username == username, model.email == auth.normalize_email(email)))
        if (await db.execute(taken)).first() is not None:
            raise click.ClickException(f"A user named {username!r} or with the email {email!r} exists already.")
        return await auth.create_user(
            db, username=username, email=email, password=password, validate=False, is_staff=True, is_superuser=True
        )

    user = anyio.run(_in_database, app, create)
    click.echo(f"Superuser {user.username!r} created (id {user.id}).")


@click.command()
@click.argument("username")
@click.pass_obj
def changepassword(app: Any, username: str) -> None:
    """Set a new password for USERNAME (asked twice, hidden)."""
    auth = _auth(app)
    app.build()

    async def find(db: AsyncSession) -> Any:
        return (await db.execute(select(auth.user_model).where(auth.user_model.username == username))).scalars().first()

    found = anyio.run(_in_database, app, find)
    if found is None:
        raise click.ClickException(f"No user named {username!r}.")
    password = _ask_password(auth, found.username, found.email)

    async def change(db: AsyncSession) -> None:
        user = await db.get(auth.user_model, found.id)
        await auth.set_password(user, password, validate=False)

    anyio.run(_in_database, app, change)
    click.echo(f"Password changed for {username!r}; the user's other sessions are logged out.")

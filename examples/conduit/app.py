"""Conduit, the RealWorld blog, as one Plait app: the JSON API under ``/api``, the site, the admin.

Run it with ``make demo`` from the repository root, or by hand (from ``examples/``)::

    export PLAIT_APP=conduit/app.py
    plait db migrate                 # the auth tables, then Conduit's (examples/conduit/migrations)
    plait conduit seed               # demo members, articles, comments, follows and favorites
    plait run conduit/app.py:app     # http://127.0.0.1:8000 (site), /api, /docs, /admin

SQLite (``examples/conduit/db.sqlite3``) unless ``PLAIT_DATABASE_URL`` says otherwise.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from conduit.admin import make_admin
from conduit.api import api_router
from conduit.cli import ConduitCommands
from conduit.markdown import render_markdown
from conduit.models import Member
from conduit.site.pages import site_router
from plait import Plait
from plait.auth import Auth, AuthSettings
from plait.csrf import CSRF
from plait.db import Database
from plait.middleware.cors import CORSMiddleware
from plait.sessions import Sessions
from plait.settings import Settings, load_settings
from plait.templates import Templates

__all__ = ["TOKEN_TTL", "create_app"]

TOKEN_TTL = 7 * 24 * 3600.0
"""How long a token lasts unless ``PLAIT_AUTH_JWT_ACCESS_TTL`` says: a week, as RealWorld front ends keep one
token (they have no refresh flow)."""


def auth_settings() -> AuthSettings:
    """``PLAIT_AUTH_*`` as usual, with a week-long token when the variable does not set one."""
    settings = load_settings(AuthSettings, prefix="PLAIT_AUTH_")
    if "PLAIT_AUTH_JWT_ACCESS_TTL" not in os.environ:
        settings = msgspec.structs.replace(settings, jwt_access_ttl=TOKEN_TTL)
    return settings


def create_app(
    database_url: str | None = None, *, settings: Settings | None = None, auth: AuthSettings | None = None
) -> Plait[Any]:
    """The whole app; tests give it their own database, secret key and (cheaper) password hashing."""
    app: Plait[Any] = Plait(
        title="Conduit",
        version="1.1.0",
        description="RealWorld's Conduit API (a Medium-like blog), built with Plait.",
        settings=settings,
        extensions=[
            Database(database_url),
            Sessions(),
            CSRF(),
            Templates(filters={"markdown": render_markdown}),
            ConduitCommands(),
            Auth(user_model=Member, token_scheme="Token", settings=auth or auth_settings()),  # noqa: S106
            make_admin(),
        ],
    )
    # Browser front ends on other origins (the RealWorld clients) call the API with a token, never
    # with cookies: any origin may, and no credentials are allowed, so no other site can act with a
    # visitor's session.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["authorization", "content-type"],
    )
    app.include_router(api_router())
    app.include_router(site_router())
    return app


app = create_app()

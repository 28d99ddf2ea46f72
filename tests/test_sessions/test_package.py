"""The public surface of plait.sessions and plait.csrf, pinned."""

from __future__ import annotations

import subprocess
import sys

import pytest

import plait.csrf
import plait.sessions


def test_the_sessions_surface() -> None:
    assert sorted(plait.sessions.__all__) == [
        "CookieStore",
        "DatabaseStore",
        "RedisStore",
        "Session",
        "SessionRoute",
        "SessionStore",
        "SessionTooLarge",
        "Sessions",
        "current_session",
        "flash",
        "get_flashed_messages",
    ]
    for name in plait.sessions.__all__:
        assert getattr(plait.sessions, name) is not None


def test_the_csrf_surface() -> None:
    assert sorted(plait.csrf.__all__) == [
        "CSRF",
        "CSRFInput",
        "CSRFRoute",
        "CSRFState",
        "LazyToken",
        "SESSION_KEY",
        "csrf_exempt",
        "csrf_token",
        "rotate_csrf_token",
        "token_endpoint",
    ]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = plait.sessions.Nope


def test_the_cookie_store_needs_neither_sqlalchemy_nor_redis() -> None:
    code = (
        "import sys; import plait.sessions, plait.csrf; "
        "print(sorted(m for m in ('sqlalchemy', 'redis') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

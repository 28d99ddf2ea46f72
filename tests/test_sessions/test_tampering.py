"""Property tests: no alteration of a session cookie is ever accepted, and none reaches the store."""

from __future__ import annotations

import string
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plait.sessions import Sessions
from tests.test_sessions.helpers import MemoryStore, session_app

ALPHABET = string.ascii_letters + string.digits + "-_."


def built(store: Any = None) -> Sessions:
    app = session_app(store)
    app.build()
    sessions: Sessions = app.extensions["sessions"]
    return sessions


def scope_with(cookie: str) -> dict[str, Any]:
    return {"type": "http", "headers": [(b"cookie", f"plait_session={cookie}".encode())]}


COOKIE_STORE = built()
GENUINE = COOKIE_STORE.signer.sign(anyio.run(COOKIE_STORE.store.save, None, {"user": "ada", "admin": False}, 60))  # type: ignore[union-attr]


@st.composite
def altered(draw: st.DrawFn, genuine: str) -> str:
    """The genuine cookie with one character replaced, some cut off, or some added."""
    how = draw(st.sampled_from(["replace", "truncate", "append", "insert"]))
    index = draw(st.integers(0, len(genuine) - 1))
    if how == "truncate":
        return genuine[:index]
    extra = draw(st.text(ALPHABET, min_size=1, max_size=3))
    if how == "append":
        return genuine + extra
    if how == "insert":
        return genuine[:index] + extra + genuine[index:]
    replacement = draw(st.sampled_from(ALPHABET).filter(lambda c: c != genuine[index]))
    return genuine[:index] + replacement + genuine[index + 1 :]


def test_the_genuine_cookie_reads_back() -> None:
    assert COOKIE_STORE.read_now(scope_with(GENUINE))[1] == {"user": "ada", "admin": False}  # type: ignore[index]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(altered(GENUINE))
def test_any_altered_cookie_store_cookie_is_an_empty_session(cookie: str) -> None:
    assert COOKIE_STORE.read_now(scope_with(cookie)) == (None, {})


@settings(max_examples=100)
@given(st.data())
def test_any_altered_session_id_never_reaches_the_store(data: st.DataObject) -> None:
    store = MemoryStore()
    sessions = built(store)
    key = anyio.run(store.save, None, {"user": "ada"}, 60)
    assert sessions.signer is not None
    cookie = data.draw(altered(sessions.signer.sign(key)))
    store.calls.clear()
    assert anyio.run(sessions.read, scope_with(cookie)) == (None, {})
    assert store.calls == []  # refused on its signature, before any store lookup


@settings(max_examples=100)
@given(st.text(ALPHABET, max_size=120))
def test_random_cookies_are_empty_sessions(cookie: str) -> None:
    assert COOKIE_STORE.read_now(scope_with(cookie)) == (None, {})

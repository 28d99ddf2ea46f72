"""The request-scoped session: committed before the response starts, rolled back on any error.

A generator provider's cleanup runs after the response has been sent, too late to tell the client
that its change was not saved. So routes that use the session are wrapped, at startup, in
:class:`CommitBeforeResponse`: it holds the request's sessions and, when the response starts,
commits them (status < 400) or rolls them back (an error response) first. A failed commit replaces
the response with an error one. Routes that do not use the session are not wrapped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any, Protocol

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.concurrency import ThreadPool
from plait.di.plan import CallPlan
from plait.errors import HandlerTable, ProblemResponse, handle
from plait.requests import Request

logger = logging.getLogger("plait.db")


class Pending(Protocol):
    """What the commit-before-response wrapper needs of a session (async, or a sync one run in threads)."""

    def in_transaction(self) -> bool: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


# The sessions opened for the current request, when its route is wrapped (else None: a background
# task, a WebSocket or a CLI command commits when its provider exits).
_pending: ContextVar[list[Pending] | None] = ContextVar("plait.db.pending", default=None)


@contextlib.asynccontextmanager
async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit when the caller succeeds, roll back when it raises, always close."""
    session = maker()
    pending = _pending.get()
    if pending is not None:
        pending.append(session)
    try:
        yield session
    except BaseException:
        with contextlib.suppress(Exception):  # the original error matters more than a failed rollback
            await _discard(session)
        raise
    else:
        if session.in_transaction():  # a wrapped route has committed already
            await session.commit()
    finally:
        await session.close()


class _SyncPending:
    """A sync session seen as :class:`Pending`: its commit and rollback run in the app's thread pool."""

    __slots__ = ("pool", "session")

    def __init__(self, session: Session, pool: ThreadPool) -> None:
        self.session = session
        self.pool = pool

    def in_transaction(self) -> bool:
        return self.session.in_transaction()

    async def commit(self) -> None:
        await self.pool.run(self.session.commit)

    async def rollback(self) -> None:
        await self.pool.run(self.session.rollback)


@contextlib.asynccontextmanager
async def sync_session_scope(maker: sessionmaker[Session], pool: ThreadPool) -> AsyncIterator[Session]:
    """:func:`session_scope` for a sync ``Session``: made on the event loop (no I/O until it is used),
    committed or rolled back and closed in the thread pool, so the loop never waits on the database."""
    session = maker()
    pending = _pending.get()
    if pending is not None:
        pending.append(_SyncPending(session, pool))
    try:
        yield session
    except BaseException:
        with contextlib.suppress(Exception), anyio.CancelScope(shield=True):
            await pool.run(_discard_sync, session)
        raise
    else:
        if session.in_transaction():  # a wrapped route has committed already
            await pool.run(session.commit)
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled request still returns its connection to the pool
            await pool.run(session.close)


async def _discard(session: AsyncSession) -> None:
    """Roll back, keeping what the objects already loaded.

    The error page that follows (a 404 or 403 rendered by a template) may still read objects the
    handler loaded, such as the signed-in user. A plain rollback would expire them, and reading an
    expired attribute then needs a query the async session cannot run there; detached first, they
    keep their loaded values and the rollback has nothing to expire.
    """
    session.expunge_all()
    await session.rollback()


def _discard_sync(session: Session) -> None:
    session.expunge_all()
    session.rollback()


def uses(plan: CallPlan, provider: Callable[..., Any]) -> bool:
    """True when ``plan`` (or any provider it needs) asks for ``provider``."""
    return any(dep.plan.fn == provider or uses(dep.plan, provider) for dep in plan.dependencies)


class CommitBeforeResponse:
    """Wraps one route's endpoint; see the module docstring."""

    __slots__ = ("app", "endpoint")

    def __init__(self, endpoint: ASGIApp, app: Any) -> None:
        self.endpoint = endpoint
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sessions: list[Pending] = []
        token = _pending.set(sessions)
        try:
            await self.endpoint(scope, receive, _Finisher(self, scope, receive, send, sessions))
        finally:
            _pending.reset(token)

    async def failed(self, scope: Scope, receive: Receive, exc: Exception) -> Any:
        """The response for a commit that failed: the app's handler for it, else a 500."""
        response = await handle(HandlerTable([self.app.exception_handlers]), Request(scope, receive), exc)
        if response is None:
            logger.error("Committing the session failed", exc_info=exc)
            response = ProblemResponse(500, detail="The changes could not be saved.")
        return response


class _Finisher:
    __slots__ = ("dropping", "owner", "receive", "scope", "send", "sessions")

    def __init__(
        self, owner: CommitBeforeResponse, scope: Scope, receive: Receive, send: Send, sessions: list[Pending]
    ) -> None:
        self.owner = owner
        self.scope = scope
        self.receive = receive
        self.send = send
        self.sessions = sessions
        self.dropping = False

    async def __call__(self, message: Message) -> None:
        if self.dropping:  # the original response was replaced by an error one
            return
        if message["type"] == "http.response.start" and self.sessions:
            sessions, self.sessions = self.sessions, []
            try:
                await _finish(sessions, commit=message["status"] < 400)
            except Exception as exc:
                self.dropping = True
                await _roll_back_quietly(sessions)
                response = await self.owner.failed(self.scope, self.receive, exc)
                await response(self.scope, self.receive, self.send)
                return
        await self.send(message)


async def _finish(sessions: list[Pending], *, commit: bool) -> None:
    for session in sessions:
        if session.in_transaction():
            await (session.commit() if commit else session.rollback())


async def _roll_back_quietly(sessions: list[Pending]) -> None:
    for session in sessions:
        with contextlib.suppress(Exception):  # the commit's error is the one to report
            await session.rollback()

"""Holding a request's ``enqueue_after_commit`` jobs until its database transaction has committed.

``plait.db`` commits a route's session when the response starts (``CommitBeforeResponse``), and
answers with an error instead when the commit fails. :class:`AfterCommit` wraps such routes from
the outside (``Jobs`` is installed after ``Database``), so the response start it sees comes after
the commit: a success status means the data is in the database, and the held jobs are sent then;
an error status (the handler failed, or the commit did) means it was rolled back, and they are
dropped, so no job ever reads data that does not exist.
"""

from __future__ import annotations

from plait._types import ASGIApp, Message, Receive, Scope, Send
from plait.jobs.job import Deferred, after_commit, flush


class AfterCommit:
    """An ASGI wrapper: enqueue the deferred jobs on a successful response start, else drop them."""

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: ASGIApp) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deferred: list[Deferred] = []
        token = after_commit.set(deferred)

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start" and deferred:
                waiting = deferred[:]
                deferred.clear()
                if message["status"] < 400:
                    await flush(waiting)
            await send(message)

        try:
            await self.endpoint(scope, receive, send_after_commit)
        finally:
            after_commit.reset(token)

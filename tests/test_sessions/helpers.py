"""A counting in-memory store and a small app exercising the session, shared by the session tests."""

from __future__ import annotations

from typing import Any

from plait import Plait, Request
from plait.exceptions import HTTPException
from plait.sessions import Session, Sessions, SessionStore
from plait.sessions.stores import new_key
from plait.settings import Settings

SECRET = "test-secret-key"


class MemoryStore(SessionStore):
    """Sessions in a dict, counting every call: proves what the middleware asks of a store."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str | None]] = []

    async def load(self, key: str) -> dict[str, Any] | None:
        self.calls.append(("load", key))
        found = self.records.get(key)
        return dict(found) if found is not None else None

    async def save(self, key: str | None, data: dict[str, Any], max_age: int) -> str:
        self.calls.append(("save", key))
        key = key if key is not None else new_key()
        self.records[key] = dict(data)
        return key

    async def delete(self, key: str) -> None:
        self.calls.append(("delete", key))
        self.records.pop(key, None)


def session_app(store: SessionStore | None = None, *, settings: Settings | None = None, **options: Any) -> Plait:
    """Routes that read, write, cycle, flush and fail, over ``Sessions(store, **options)``."""
    app = Plait(settings=settings or Settings(secret_key=SECRET), extensions=[Sessions(store, **options)])

    @app.get("/untouched")
    def untouched() -> str:
        return "nothing read"

    @app.get("/read")
    async def read(session: Session) -> dict[str, Any]:
        return dict(session)

    @app.post("/set/{name}")
    async def set_value(name: str, value: str, session: Session) -> dict[str, Any]:
        session[name] = value
        return dict(session)

    @app.post("/login")
    async def login(user: str, session: Session) -> str:
        session.cycle_key()  # a new id on login: a planted id is worthless afterwards
        session["user"] = user
        return user

    @app.post("/logout")
    async def logout(session: Session) -> str:
        session.flush()
        return "bye"

    @app.post("/crash")
    async def crash(session: Session) -> None:
        session["half"] = "done"
        raise RuntimeError("boom")

    @app.post("/refuse")
    async def refuse(session: Session) -> None:
        session["refused"] = "yes"
        raise HTTPException(409, "refused")

    @app.post("/unavailable")
    async def unavailable(session: Session) -> None:
        session["half"] = "done"
        raise HTTPException(503, "down")

    @app.get("/request")
    async def through_request(request: Request) -> dict[str, Any]:
        await request.session.load()
        return dict(request.session)

    return app

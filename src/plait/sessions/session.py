"""``Session``: the request's session data, a mutable mapping loaded from its store on first use."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait._types import Scope
    from plait.sessions.extension import Sessions

__all__ = ["Session"]


class Session(MutableMapping[str, Any]):
    """The session of one request: a ``dict``-like mapping of JSON-encodable values.

    Nothing is read from the store until the session is used, so a route that never touches it costs
    no store round trip. The default :class:`~plait.sessions.CookieStore` needs no I/O and loads on
    first access; a server store (database, Redis) is loaded by taking ``session: Session`` as a
    parameter, or by ``await request.session.load()``.

    Changes are saved when the response starts, unless it is a 5xx. ``cycle_key()`` keeps the data
    under a new id (call it on login and on any change of privilege); ``flush()`` empties it and
    deletes the record (logout).
    """

    __slots__ = ("_data", "_doomed", "_owner", "_readonly", "_scope", "accessed", "fresh_key", "key", "modified")

    def __init__(self, owner: Sessions, scope: Scope, *, readonly: bool = False) -> None:
        self._owner = owner
        self._scope = scope
        self._readonly = readonly
        self._data: dict[str, Any] | None = None
        self._doomed: list[str] = []
        self.key: str | None = None
        """The store's id of the loaded record; None for a new session (or after ``cycle_key``/``flush``)."""
        self.fresh_key = False
        """True once ``cycle_key()`` or ``flush()`` asked for a new id."""
        self.accessed = False
        """True once the data was loaded: the response then varies with the ``Cookie`` header."""
        self.modified = False
        """True once the data changed: the response then saves it."""

    # -- loading ------------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._data is not None

    async def load(self) -> Session:
        """Read the session from its store (once; later calls return at once)."""
        if self._data is None:
            key, data = await self._owner.read(self._scope)
            if self._data is None:  # another task of the same request may have loaded it meanwhile
                self.key, self._data = key, data
        self.accessed = True
        return self

    def _loaded(self) -> dict[str, Any]:
        if self._data is None:
            # PERF: a store that needs no I/O (the signed cookie) is read on first use, synchronously.
            loaded = self._owner.read_now(self._scope)
            if loaded is None:
                store = type(self._owner.store).__name__
                raise RuntimeError(
                    f"The session lives in a {store} and has not been loaded yet. Take `session: Session` as "
                    "a handler or dependency parameter (Plait loads it for you), or `await request.session.load()` "
                    "before using it."
                )
            self.key, self._data = loaded
        self.accessed = True
        return self._data

    def _writable(self) -> dict[str, Any]:
        if self._readonly:
            raise RuntimeError(
                "This session is read-only: a WebSocket cannot set cookies once it is open, so changes could "
                "never be saved. Change the session in an HTTP request instead."
            )
        data = self._loaded()
        self.modified = True
        return data

    # -- the mapping --------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._loaded()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._writable()[key] = value

    def __delitem__(self, key: str) -> None:
        data = self._loaded()
        if key not in data:
            raise KeyError(key)
        del self._writable()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __contains__(self, key: object) -> bool:
        return key in self._loaded()

    def clear(self) -> None:
        self._writable().clear()

    def __repr__(self) -> str:
        shown = repr(self._data) if self._data is not None else "not loaded"
        return f"<Session {shown}>"

    # -- life cycle ---------------------------------------------------------------------------------

    def cycle_key(self) -> None:
        """Keep the data under a new id and delete the old record (on login and any privilege change).

        An attacker who planted a session id in the victim's browser (session fixation) is left
        holding an id that no longer exists once the victim logs in.
        """
        self._writable()
        self._retire()

    def flush(self) -> None:
        """Delete the record, empty the data and forget the id (logout)."""
        self._writable().clear()
        self._retire()

    def _retire(self) -> None:
        if self.key is not None:
            self._doomed.append(self.key)
            self.key = None
        self.fresh_key = True

    def retired_keys(self) -> list[str]:
        """The ids ``cycle_key()``/``flush()`` left behind, to delete when the response is saved."""
        return list(self._doomed)

    def data(self) -> dict[str, Any]:
        """The loaded data itself (for stores and the saving middleware)."""
        return self._loaded()

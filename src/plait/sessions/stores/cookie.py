"""``CookieStore``: the session data itself, in the (signed) session cookie."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from plait.sessions.stores.base import SessionStore
from plait.signing import BadSignature, b64decode, b64encode

_DATA = msgspec.json.Decoder(dict[str, Any])


class CookieStore(SessionStore):
    """Keep the data in the cookie: no server state, nothing to install (the default store).

    The "key" is the data encoded as base64 JSON; :class:`~plait.sessions.Sessions` signs it and
    checks the signature (and its age) before this store decodes anything, so the data cannot be
    altered by the client. It can be *read* by the client, though (signing is not encryption): keep
    secrets out of the session. A copy of an old cookie stays valid until it expires, since there is
    no record to delete on logout; use a server store where that matters. Browsers refuse cookies
    over 4 KB, so the data must stay small.

    >>> import anyio
    >>> store = CookieStore()
    >>> key = anyio.run(store.save, None, {"cart": [1, 2]}, 60)
    >>> store.load_now(key)
    {'cart': [1, 2]}
    """

    loads_without_io: ClassVar[bool] = True

    def load_now(self, key: str) -> dict[str, Any] | None:
        try:
            return _DATA.decode(b64decode(key.encode("ascii")))
        except (BadSignature, msgspec.DecodeError, UnicodeEncodeError):
            return None

    async def load(self, key: str) -> dict[str, Any] | None:
        return self.load_now(key)

    async def save(self, key: str | None, data: dict[str, Any], max_age: int) -> str:
        return b64encode(msgspec.json.encode(data)).decode("ascii")

    async def delete(self, key: str) -> None:
        """Nothing to do on the server: the response overwrites or expires the cookie."""

"""Where sessions live: the :class:`SessionStore` protocol and the stores Plait ships.

* :class:`~plait.sessions.stores.cookie.CookieStore` (the default): the data itself, signed, in the
  cookie; no server state and no dependency.
* :class:`~plait.sessions.stores.database.DatabaseStore`: a ``plait_session`` table through
  :mod:`plait.db` (``pip install 'plait[db]'``).
* :class:`~plait.sessions.stores.redis.RedisStore`: keys with a TTL in Redis (``pip install 'plait[redis]'``).

The last two are imported only when used, so an app on the cookie store needs neither SQLAlchemy
nor redis-py.
"""

from plait.sessions.stores.base import SessionStore, new_key
from plait.sessions.stores.cookie import CookieStore

__all__ = ["CookieStore", "SessionStore", "new_key"]

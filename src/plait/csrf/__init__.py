"""CSRF protection for cookie-authenticated requests: a masked token plus ``Origin``/``Referer`` checks.

::

    from plait import Plait, Request
    from plait.csrf import CSRF, csrf_token
    from plait.sessions import Sessions

    app = Plait(extensions=[Sessions(), CSRF()])

    @app.get("/token")
    def token(request: Request) -> str:
        return csrf_token(request)       # send it back as X-CSRF-Token, or the csrf_token form field

Templates get ``{{ csrf_input }}`` (the hidden field) and ``{{ csrf_token }}``; JavaScript gets a
token from ``GET /csrf``. Requests authenticated by a bearer token or an API key are not checked.
"""

from plait.csrf.extension import (
    CSRF,
    SESSION_KEY,
    CSRFInput,
    CSRFRoute,
    CSRFState,
    LazyToken,
    csrf_exempt,
    csrf_token,
    rotate_csrf_token,
    token_endpoint,
)

__all__ = [
    "CSRF",
    "SESSION_KEY",
    "CSRFInput",
    "CSRFRoute",
    "CSRFState",
    "LazyToken",
    "csrf_exempt",
    "csrf_token",
    "rotate_csrf_token",
    "token_endpoint",
]

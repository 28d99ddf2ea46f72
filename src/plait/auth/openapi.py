"""How auth shows in the OpenAPI document: security schemes, and what protected operations declare.

:func:`security_schemes` is what ``Auth.openapi_components()`` contributes: an OAuth2 password flow
(the **Authorize** button of ``/docs`` logs in with a username and password and then sends the
access token), the same token as a plain bearer token, and the API key (header and query parameter). ``CurrentUser`` and
``requires(...)`` carry :data:`PROTECTED` / :data:`FORBIDDEN` as their ``__plait_openapi__``, so every
operation that uses them lists those schemes under ``security`` and documents its 401 (and 403).

>>> from types import SimpleNamespace
>>> auth = SimpleNamespace(token_scheme="Bearer", settings=SimpleNamespace(api_key_header="X-API-Key"))
>>> sorted(security_schemes(auth)["securitySchemes"])
['APIKeyHeader', 'BearerToken', 'OAuth2Password']
>>> auth.settings.api_key_query = "api_key"  # keys accepted in the query string too (the default)
>>> security_schemes(auth)["securitySchemes"]["APIKeyQuery"]["name"]
'api_key'
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_KEY_QUERY", "FORBIDDEN", "PROTECTED", "SCHEME_NAMES", "security_schemes"]

OAUTH2, BEARER, API_KEY = "OAuth2Password", "BearerToken", "APIKeyHeader"
API_KEY_QUERY = "APIKeyQuery"
SCHEME_NAMES = (OAUTH2, BEARER, API_KEY, API_KEY_QUERY)
"""The names of the security schemes, as operations' ``security`` requirements refer to them."""
DEFAULT_TOKEN_URL = "auth/token"  # noqa: S105 - a URL, not a secret
"""Relative on purpose: the browser resolves it against the docs page, so a ``root_path`` prefix is kept."""

_UNAUTHORIZED = {"description": "Not authenticated: no credentials, or a token or API key that is not valid."}
_FORBIDDEN = {"description": "Authenticated, but not allowed to do this."}

PROTECTED: dict[str, Any] = {
    "security": [{name: []} for name in SCHEME_NAMES],
    "responses": {"401": _UNAUTHORIZED},
}
"""The ``__plait_openapi__`` of a dependency that needs a user: any one of the schemes; 401 otherwise."""
FORBIDDEN: dict[str, Any] = {
    "security": PROTECTED["security"],
    "responses": {"401": _UNAUTHORIZED, "403": _FORBIDDEN},
}
"""The ``__plait_openapi__`` of a permission check: 401 without a user, 403 when the user may not."""


def security_schemes(auth: Any) -> dict[str, dict[str, Any]]:
    """The ``components`` section for ``auth`` (an installed :class:`~plait.auth.Auth`).

    The OAuth2 scheme's ``tokenUrl`` is ``auth.token_url`` when set, else ``auth/token`` (the token
    route of ``auth_router()``). With ``Auth(token_scheme="Token")`` the docs cannot use the OAuth2 or
    HTTP bearer schemes (they always send ``Bearer``): the token scheme is then described as an
    ``Authorization`` header to type in full (``Token eyJ...``), and the password flow is left out.
    The API key's query parameter (``PLAIT_AUTH_API_KEY_QUERY``, ``api_key`` by default) is a scheme
    of its own, left out when that parameter is turned off (the operations then do not list it).
    """
    header = auth.settings.api_key_header
    schemes: dict[str, Any] = {}
    if auth.token_scheme.lower() == "bearer":
        schemes[OAUTH2] = {
            "type": "oauth2",
            "description": "Log in with a username (or email) and password; the docs then send the access token.",
            "flows": {"password": {"tokenUrl": getattr(auth, "token_url", None) or DEFAULT_TOKEN_URL, "scopes": {}}},
        }
        schemes[BEARER] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    else:
        schemes[BEARER] = {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"An access token after the word {auth.token_scheme}: '{auth.token_scheme} eyJ...'.",
        }
    schemes[API_KEY] = {"type": "apiKey", "in": "header", "name": header, "description": "An API key (plait_...)."}
    query = getattr(auth.settings, "api_key_query", None)
    if query:
        schemes[API_KEY_QUERY] = {
            "type": "apiKey",
            "in": "query",
            "name": query,
            "description": "An API key (plait_...) in the query string; prefer the header (URLs end up in logs).",
        }
    return {"securitySchemes": schemes}

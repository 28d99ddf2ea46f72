"""An app with CSRF protection (with or without Sessions) and routes to post to."""

from __future__ import annotations

from typing import Any

from plait import Plait, Request
from plait.csrf import CSRF, csrf_exempt, csrf_token, rotate_csrf_token
from plait.extensions import Extension
from plait.sessions import Sessions
from plait.settings import Settings

SECRET = "test-secret-key"
MODES = ["session", "session-installed-after", "cookie"]


def csrf_app(mode: str = "session", *, settings: Settings | None = None, **options: Any) -> Plait:
    """``mode``: Sessions then CSRF, CSRF then Sessions, or CSRF alone (the secret in a signed cookie)."""
    choices: dict[str, list[Extension]] = {
        "session": [Sessions(), CSRF(**options)],
        "session-installed-after": [CSRF(**options), Sessions()],
        "cookie": [CSRF(**options)],
    }
    extensions = choices[mode]
    app = Plait(settings=settings or Settings(secret_key=SECRET), extensions=extensions)

    @app.get("/form")
    def form_page(request: Request) -> str:
        return csrf_token(request)

    @app.post("/submit")
    async def submit(request: Request) -> dict[str, Any]:
        form = await request.form()  # the body is still readable after the check read the token from it
        return {key: value if isinstance(value, str) else value.filename for key, value in form.multi_items()}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return await request.json()

    @app.delete("/thing")
    def delete_thing() -> str:
        return "deleted"

    @app.post("/webhook")
    @csrf_exempt
    def webhook() -> str:
        return "accepted"

    @app.post("/login")
    def login(request: Request) -> str:
        rotate_csrf_token(request)
        return csrf_token(request)

    return app

"""``render()``: a page as a handler's return value, rendered (asynchronously) just before it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plait._types import Receive, Scope, Send
from plait.requests import Request
from plait.responses import HTMLResponse
from plait.templates.extension import Templates, error_response, templates_of

__all__ = ["TemplateResponse", "render"]


class TemplateResponse(HTMLResponse):
    """A page whose body is the template ``name`` rendered with ``context``, when the response is sent.

    It is an ordinary :class:`~plait.responses.Response` to the rest of Plait: a handler returns it,
    a ``response: Response`` parameter's headers and cookies are merged into it, a Flask-style
    ``(render(...), 201)`` tuple sets its status. Rendering waits until it is sent because it is
    asynchronous (the environment is async, so templates may await) and because the names each
    extension adds (CSRF token, user, flashes) are read from the request then. Until it is sent,
    ``body`` is empty; ``await templates.render_string(name, context)`` gives the text in a test.

    A template that fails to render is answered like any error raised by a handler: the app's
    handler for it if there is one, else a 500 problem response (with the details only in debug).
    """

    def __init__(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        templates: Templates | None = None,
    ) -> None:
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
        self.template = name
        self.context: dict[str, Any] = dict(context or {})
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        templates = self.templates
        try:
            if templates is None:
                templates = templates_of(scope["app"])
            text = await templates.render_string(self.template, self.context, request=request)
        except Exception as exc:
            # Answered here, before anything was sent: Plait's endpoints treat an error raised while a
            # returned Response sends itself as one that happened mid-response (no error page then).
            await (await error_response(scope["app"], request, exc))(scope, receive, send)
            return
        self.body = text.encode(self.charset)
        if self.status_code >= 200 and self.status_code not in (204, 304):
            self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def render(
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
) -> TemplateResponse:
    """The page ``name`` rendered with ``context``; return it from a handler.

    The template also sees ``request``, ``url_for``, ``static`` and what the installed extensions
    add (see :class:`~plait.templates.Templates`). ``media_type`` defaults to HTML.

    >>> response = render("articles/list.html", {"articles": []}, status_code=200)
    >>> response.template, response.headers["content-type"]
    ('articles/list.html', 'text/html; charset=utf-8')
    """
    return TemplateResponse(name, context, status_code=status_code, headers=headers, media_type=media_type)

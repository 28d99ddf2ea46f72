"""One route, two audiences: HTML for a browser, JSON for an API client, chosen by the ``Accept`` header."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from plait.exceptions import HTTPException
from plait.http.headers import parse_options_header
from plait.requests import HTTPConnection
from plait.responses import JSONResponse, Response

__all__ = ["negotiate", "preferred_type", "wants_html"]

HTML = "text/html"
JSON = "application/json"


def preferred_type(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the ``Accept`` header rates highest; the earlier offer on a tie; None when all are refused.

    Each offer takes the quality (``q``) of the most specific range that matches it (``text/html``
    before ``text/*`` before ``*/*``), as RFC 9110 says; an offer no range matches, or one rated
    ``q=0``, is not acceptable. No ``Accept`` header accepts anything.

    >>> browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    >>> preferred_type(browser, ["application/json", "text/html"])
    'text/html'
    >>> preferred_type("*/*", ["application/json", "text/html"]), preferred_type("image/png", ["text/html"])
    ('application/json', None)
    """
    ranges = _ranges(accept if accept else "*/*")
    best, best_q = None, 0.0
    for offer in offers:
        q = _quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    return best


def wants_html(request: HTTPConnection) -> bool:
    """Whether the client prefers HTML to JSON: a browser does, ``curl`` and API clients (``*/*``) do not.

    >>> from plait.requests import Request
    >>> wants_html(Request({"type": "http", "headers": [(b"accept", b"text/html,*/*;q=0.8")]}))
    True
    >>> wants_html(Request({"type": "http", "headers": [(b"accept", b"application/json;q=0.9, text/html;q=0.5")]}))
    False
    """
    return preferred_type(request.headers.get("accept"), (JSON, HTML)) == HTML


def negotiate(
    request: HTTPConnection,
    *,
    html: Response | Callable[[], Response],
    data: Any,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``html`` for a client that prefers HTML, else ``data`` as JSON; both say ``Vary: Accept``.

    ``html`` is a response (``render(...)`` renders only if it is sent) or a function making one.
    JSON wins a tie, so API clients sending ``Accept: */*`` get data. ``status_code`` and ``headers``
    apply to whichever is sent. A client that accepts neither gets a 406 problem response.

    >>> from plait.requests import Request
    >>> from plait.responses import HTMLResponse
    >>> api = Request({"type": "http", "headers": [(b"accept", b"application/json")]})
    >>> response = negotiate(api, html=HTMLResponse("<p>7 articles</p>"), data={"count": 7})
    >>> response.body, response.headers["vary"]
    (b'{"count":7}', 'Accept')
    """
    choice = preferred_type(request.headers.get("accept"), (JSON, HTML))
    if choice is None:
        raise HTTPException(
            406, "This resource is available as application/json or text/html; send an Accept header allowing one."
        )
    if choice == HTML:
        response = html if isinstance(html, Response) else html()
    else:
        response = data if isinstance(data, Response) else JSONResponse(data)
    if status_code is not None:
        response.status_code = status_code
    if headers:
        response.headers.update(headers)
    # Caches must keep the HTML and the JSON apart: the same URL answers both.
    response.headers.append("vary", "Accept")
    return response


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """``(type, subtype, q)`` for each media range; ranges with an unreadable ``q`` are dropped."""
    ranges = []
    for item in accept.split(","):
        media_range, params = parse_options_header(item)
        main, _, sub = media_range.partition("/")
        if not main or not sub:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        ranges.append((main, sub, min(max(q, 0.0), 1.0)))
    return ranges


def _quality(ranges: list[tuple[str, str, float]], offer: str) -> float:
    main, _, sub = offer.partition("/")
    best_specificity, quality = -1, 0.0
    for range_main, range_sub, q in ranges:
        if range_main == main and range_sub == sub:
            specificity = 2
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif range_main == range_sub == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, q
    return quality

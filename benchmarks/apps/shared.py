"""What every benchmark app serves: the fixed data and names, written once.

Each ``*_app.py`` module builds these endpoints the way its framework's documentation would,
and the harness reads the same constants to check every answer before it times anything.
Data only lives here: no framework code, so no app gets a head start from another.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "Hello, World!"
USER_ID = 12345
QUERY = {"q": "plait", "page": 3, "limit": 20}
ROUTE_COUNT = 100
LAST_ROUTE_ITEM = 7
UPLOAD_FIELD = "file"
UPLOAD_FILENAME = "data.bin"
UPLOAD_SIZE = 1024
DEPENDENCY_DEPTH = 3

# Response headers and cookies of the "headers" scenario.
TRACE_HEADER = ("x-trace-id", "bench-42")
CACHE_CONTROL = "no-store"
SESSION_COOKIE = ("session", "abc123")
THEME_COOKIE = ("theme", "dark")

# The middleware scenario: CORS for one origin, gzip at one level, three security headers.
CORS_ORIGIN = "http://bench.example"
GZIP_LEVEL = 6
GZIP_MINIMUM_SIZE = 500
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def route_path(index: int) -> str:
    """The i-th of the router scenario's routes, before its ``{item_id}`` parameter."""
    return f"/route{index}"


def nested_records() -> list[dict[str, Any]]:
    """The 100 nested objects of the "nested" scenario, as plain data."""
    return [
        {
            "id": i,
            "name": f"user-{i}",
            "active": i % 3 != 0,
            "tags": ["alpha", "beta", "gamma"][: 1 + i % 3],
            "address": {"street": f"{i} Main Street", "city": "Springfield", "zip": f"{10000 + i}"},
            "scores": [float(i % 7), float(i % 5), float(i % 11)],
        }
        for i in range(100)
    ]


def middleware_payload() -> dict[str, Any]:
    """About 1.5 kB of JSON: big enough for every gzip middleware to compress it."""
    items = [{"id": i, "name": f"item-{i}", "description": "a compressible description"} for i in range(20)]
    return {"message": MESSAGE, "items": items}


def order_total(order: dict[str, Any]) -> float:
    """What the order endpoint answers for ``total``: the sum of quantity * price, to cents."""
    return round(sum(line["quantity"] * line["price"] for line in order["items"]), 2)

"""A guard against deeply nested JSON, run before decoding."""

from __future__ import annotations

import msgspec

from plait.exceptions import HTTPException
from plait.http.jsondepth import _depth_exceeds as _depth_exceeds  # re-exported for tests


def check_depth(data: bytes, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` arrays/objects with a 400.

    >>> check_depth(b'{"a": [1, 2]}', 4)
    """
    # PERF: bytes.count runs in C. A document with fewer brackets than the limit cannot be
    # too deep, so almost every body skips the scan below.
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    if _depth_exceeds(data, max_depth):
        raise _too_deep_or_malformed(data, max_depth)


def _too_deep_or_malformed(data: bytes, max_depth: int) -> HTTPException:
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return HTTPException(400, "The request body is not valid JSON; check for a missing quote, comma or bracket.")
    except RecursionError:
        pass
    return HTTPException(
        400,
        f"JSON body is nested more than {max_depth} levels deep; flatten the document "
        "(or raise Settings.max_json_depth if this nesting is legitimate).",
    )

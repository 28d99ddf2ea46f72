"""A guard against deeply nested JSON, run before decoding."""

from __future__ import annotations

from plait.exceptions import HTTPException


def check_depth(data: bytes, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` arrays/objects with a 400.

    >>> check_depth(b'{"a": [1, 2]}', 4)
    """
    # PERF: bytes.count runs in C. A document with fewer brackets than the limit cannot be
    # too deep, so almost every body skips the character-by-character scan below.
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    if _max_depth(data) > max_depth:
        raise HTTPException(
            400,
            f"JSON body is nested more than {max_depth} levels deep; flatten the document "
            "(or raise Settings.max_json_depth if this nesting is legitimate).",
        )


def _max_depth(data: bytes) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest

"""Tests for ``plait.codec.depth``."""

from __future__ import annotations

import pytest

from plait.codec import depth as depth_module
from plait.codec.depth import _depth_exceeds, check_depth
from plait.exceptions import HTTPException


def nested(levels: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * levels + close * levels


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0),
        (b"1", 0),
        (b"[]", 1),
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b"[[],[],[]]", 2),
        (b"[[[]]][]", 3),
        (nested(10), 10),
        (nested(4, b"{", b"}"), 4),
    ],
)
def test_depth_is_measured_exactly(data: bytes, expected: int) -> None:
    assert not _depth_exceeds(data, expected)
    if expected:
        assert _depth_exceeds(data, expected - 1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'"[[[[{{{{"', 0),
        (b'["]]]]"]', 1),
        (b'["[[[", "{{{"]', 1),
        (b'["a\\"[[["]', 1),  # escaped quote keeps the string open
        (b'["\\\\", [[]]]', 3),  # an escaped backslash does not escape the closing quote
        (b'["\\\\\\"[", []]', 2),  # \\ then \" : still inside the string
        (b'{"k[": {"v]": [1]}}', 3),
    ],
)
def test_brackets_inside_strings_do_not_count(data: bytes, expected: int) -> None:
    assert not _depth_exceeds(data, expected)
    if expected:
        assert _depth_exceeds(data, expected - 1)


def test_within_limit_passes() -> None:
    check_depth(nested(5), 5)
    check_depth(b'{"a": {"b": {"c": 1}}}', 3)


def test_fast_path_skips_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(data: bytes, max_depth: int) -> bool:
        raise AssertionError("the scan should not run")

    monkeypatch.setattr(depth_module, "_depth_exceeds", boom)
    check_depth(b'{"a": [1, 2], "b": {}}', 3)  # exactly 3 brackets: fast path
    check_depth(b"", 0)


def test_many_shallow_brackets_pass_the_slow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = depth_module._depth_exceeds

    def spy(data: bytes, max_depth: int) -> bool:
        calls.append(data)
        return real(data, max_depth)

    monkeypatch.setattr(depth_module, "_depth_exceeds", spy)
    data = b"[" + b",".join([b"[]"] * 50) + b"]"
    check_depth(data, 2)
    assert calls == [data]


def test_mismatched_brackets_are_reported_as_malformed() -> None:
    with pytest.raises(HTTPException, match="not valid JSON"):
        check_depth(b"[[[[}}}}", 2)
    with pytest.raises(HTTPException, match="not valid JSON"):
        check_depth(b"[[[[[[", 2)


def test_huge_bodies_are_scanned_quickly() -> None:
    # A million shallow arrays: the scan removes them in one C-level pass (no timing asserted here;
    # the point is that it finishes and accepts the document).
    check_depth(b"[" + b"[]," * 1_000_000 + b"[]]", 64)


def test_brackets_in_strings_do_not_trigger_the_error() -> None:
    check_depth(b'{"text": "[[[[[[[[[[{{{{{{{{"}', 1)


def test_too_deep_is_a_400() -> None:
    with pytest.raises(HTTPException) as info:
        check_depth(nested(6), 5)
    exc = info.value
    assert exc.status_code == 400
    assert exc.detail is not None
    assert "nested more than 5 levels deep" in exc.detail
    assert "Settings.max_json_depth" in exc.detail


def test_mixed_objects_and_arrays_too_deep() -> None:
    with pytest.raises(HTTPException, match="more than 2 levels"):
        check_depth(b'{"a": [{"b": 1}]}', 2)


def test_zero_depth_allows_only_scalars() -> None:
    check_depth(b'"text"', 0)
    check_depth(b"42", 0)
    with pytest.raises(HTTPException):
        check_depth(b"[]", 0)

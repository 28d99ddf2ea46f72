"""Tests for ``plait.routing.matcher``."""

from __future__ import annotations

import re
import uuid

import pytest

from plait.routing import converters
from plait.routing.matcher import Matcher
from plait.routing.paths import PathTemplate, Segment, parse_path


def build(*paths: str) -> Matcher[str]:
    """A matcher whose value for each route is its own template path."""
    matcher: Matcher[str] = Matcher()
    for path in paths:
        matcher.add(parse_path(path), path)
    return matcher


# --- static -----------------------------------------------------------------------------------


def test_static_routes_live_in_the_dict() -> None:
    matcher = build("/", "/users", "/users/me")
    assert matcher.static == {"/": "/", "/users": "/users", "/users/me": "/users/me"}
    assert matcher.match("/") == ("/", {})
    assert matcher.match("/users/me") == ("/users/me", {})


def test_unknown_path_is_none() -> None:
    matcher = build("/users", "/users/{id:int}")
    assert matcher.match("/nope") is None
    assert matcher.match("/users/abc") is None
    assert matcher.match("/users/1/extra") is None


def test_path_without_leading_slash_is_none() -> None:
    matcher = build("/{name}")
    assert matcher.match("abc") is None
    assert matcher.match("") is None
    assert matcher.match("*") is None


def test_empty_matcher_matches_nothing() -> None:
    matcher: Matcher[str] = Matcher()
    assert matcher.match("/") is None
    assert matcher.match("/a") is None


def test_static_route_readded_keeps_last_value() -> None:
    matcher: Matcher[str] = Matcher()
    matcher.add(parse_path("/a"), "first")
    matcher.add(parse_path("/a"), "second")
    assert matcher.match("/a") == ("second", {})


# --- parameters -------------------------------------------------------------------------------


def test_params_are_converted() -> None:
    matcher = build("/users/{id:int}/score/{score:float}")
    assert matcher.match("/users/42/score/1.5") == ("/users/{id:int}/score/{score:float}", {"id": 42, "score": 1.5})


def test_uuid_param() -> None:
    uid = uuid.uuid4()
    found = build("/items/{key:uuid}").match(f"/items/{uid}")
    assert found == ("/items/{key:uuid}", {"key": uid})


def test_converter_pattern_must_match_the_whole_segment() -> None:
    matcher = build("/users/{id:int}")
    assert matcher.match("/users/12a") is None
    assert matcher.match("/users/a12") is None
    assert matcher.match("/users/12") == ("/users/{id:int}", {"id": 12})


def test_empty_segment_never_fills_a_param() -> None:
    matcher = build("/users/{name}/posts")
    assert matcher.match("/users//posts") is None


def test_literal_beats_param_regardless_of_order() -> None:
    matcher = build("/users/{id}", "/users/me/settings", "/users/{id}/settings")
    assert matcher.match("/users/me/settings") == ("/users/me/settings", {})
    assert matcher.match("/users/you/settings") == ("/users/{id}/settings", {"id": "you"})


def test_static_beats_dynamic_even_when_added_later() -> None:
    matcher = build("/users/{id}", "/users/me")
    assert matcher.match("/users/me") == ("/users/me", {})
    assert matcher.match("/users/you") == ("/users/{id}", {"id": "you"})


def test_backtracks_from_literal_into_param() -> None:
    # /files/new/... starts down the literal branch, which has no "raw" child.
    matcher = build("/files/new/edit", "/files/{name}/raw")
    assert matcher.match("/files/new/raw") == ("/files/{name}/raw", {"name": "new"})


def test_backtracks_between_params_with_different_converters() -> None:
    matcher = build("/users/{id:int}/posts", "/users/{name}/profile")
    assert matcher.match("/users/5/posts") == ("/users/{id:int}/posts", {"id": 5})
    assert matcher.match("/users/5/profile") == ("/users/{name}/profile", {"name": "5"})
    assert matcher.match("/users/bob/posts") is None


def test_first_declared_param_wins_for_the_same_shape() -> None:
    matcher = build("/a/{x:int}", "/a/{y}")
    assert matcher.match("/a/1") == ("/a/{x:int}", {"x": 1})
    assert matcher.match("/a/b") == ("/a/{y}", {"y": "b"})


def test_routes_sharing_a_param_share_its_node() -> None:
    matcher = build("/u/{id}/a", "/u/{id}/b")
    assert matcher.match("/u/1/a") == ("/u/{id}/a", {"id": "1"})
    assert matcher.match("/u/1/b") == ("/u/{id}/b", {"id": "1"})


def test_same_param_name_with_other_converter_gets_its_own_branch() -> None:
    matcher = build("/u/{id:int}/a", "/u/{id}/b")
    assert matcher.match("/u/1/a") == ("/u/{id:int}/a", {"id": 1})
    assert matcher.match("/u/1/b") == ("/u/{id}/b", {"id": "1"})
    assert matcher.match("/u/x/a") is None


def test_params_from_a_failed_branch_do_not_leak() -> None:
    matcher = build("/{a}/{b}/x", "/{c}/y/z")
    assert matcher.match("/1/y/z") == ("/{c}/y/z", {"c": "1"})


def test_dynamic_route_readded_keeps_last_value() -> None:
    matcher: Matcher[str] = Matcher()
    matcher.add(parse_path("/a/{x}"), "first")
    matcher.add(parse_path("/a/{x}"), "second")
    assert matcher.match("/a/1") == ("second", {"x": "1"})


def test_custom_converter_in_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    class HexConverter:
        pattern = "[0-9a-f]+"

        def to_python(self, value: str) -> int:
            return int(value, 16)

        def to_url(self, value: int) -> str:
            return format(value, "x")

    monkeypatch.setitem(converters.CONVERTERS, "hex", HexConverter())
    matcher = build("/colour/{rgb:hex}")
    assert matcher.match("/colour/ff") == ("/colour/{rgb:hex}", {"rgb": 255})
    assert matcher.match("/colour/zz") is None


# --- trailing slash ---------------------------------------------------------------------------


def test_trailing_slash_is_a_distinct_static_route() -> None:
    matcher = build("/docs/")
    assert matcher.match("/docs/") == ("/docs/", {})
    assert matcher.match("/docs") is None


def test_trailing_slash_is_a_distinct_dynamic_route() -> None:
    matcher = build("/posts/{slug}")
    assert matcher.match("/posts/hi") == ("/posts/{slug}", {"slug": "hi"})
    assert matcher.match("/posts/hi/") is None
    other = build("/posts/{slug}/")
    assert other.match("/posts/hi/") == ("/posts/{slug}/", {"slug": "hi"})
    assert other.match("/posts/hi") is None


def test_both_slash_forms_coexist() -> None:
    matcher = build("/posts/{slug}", "/posts/{slug}/")
    assert matcher.match("/posts/a") == ("/posts/{slug}", {"slug": "a"})
    assert matcher.match("/posts/a/") == ("/posts/{slug}/", {"slug": "a"})


# --- {name:path} ------------------------------------------------------------------------------


def test_path_param_takes_the_rest() -> None:
    matcher = build("/files/{rest:path}")
    assert matcher.match("/files/a/b/c.txt") == ("/files/{rest:path}", {"rest": "a/b/c.txt"})
    assert matcher.match("/files/a") == ("/files/{rest:path}", {"rest": "a"})
    assert matcher.match("/files/dir/") == ("/files/{rest:path}", {"rest": "dir/"})


def test_path_param_may_be_empty() -> None:
    matcher = build("/files/{rest:path}")
    assert matcher.match("/files/") == ("/files/{rest:path}", {"rest": ""})
    assert matcher.match("/files") == ("/files/{rest:path}", {"rest": ""})


def test_path_param_at_root_catches_everything() -> None:
    matcher = build("/{rest:path}")
    assert matcher.match("/") == ("/{rest:path}", {"rest": ""})
    assert matcher.match("/a/b") == ("/{rest:path}", {"rest": "a/b"})


def test_path_param_after_other_params() -> None:
    matcher = build("/{user}/files/{rest:path}")
    assert matcher.match("/ann/files/x/y") == ("/{user}/files/{rest:path}", {"user": "ann", "rest": "x/y"})


def test_specific_routes_beat_the_path_param() -> None:
    matcher = build("/static/{rest:path}", "/static/{name}/info", "/static/special/{x:int}")
    assert matcher.match("/static/logo/info") == ("/static/{name}/info", {"name": "logo"})
    assert matcher.match("/static/special/3") == ("/static/special/{x:int}", {"x": 3})
    assert matcher.match("/static/special/x") == ("/static/{rest:path}", {"rest": "special/x"})
    assert matcher.match("/static/logo/other") == ("/static/{rest:path}", {"rest": "logo/other"})


def test_leaf_beats_path_param_at_the_same_node() -> None:
    matcher = build("/a/{x}", "/a/{x}/{rest:path}")
    assert matcher.match("/a/1") == ("/a/{x}", {"x": "1"})
    assert matcher.match("/a/1/more") == ("/a/{x}/{rest:path}", {"x": "1", "rest": "more"})


def test_static_route_beats_path_param() -> None:
    matcher = build("/files/{rest:path}", "/files")
    assert matcher.match("/files") == ("/files", {})


def test_converter_refusing_a_value_is_no_match() -> None:
    class Even:
        pattern = "[0-9]+"

        def to_python(self, value: str) -> int:
            number = int(value)
            if number % 2:
                raise ValueError("odd")
            return number

        def to_url(self, value: int) -> str:
            return str(value)

    segment = Segment("{n:even}", "n", Even(), re.compile(Even.pattern))
    matcher: Matcher[str] = Matcher()
    matcher.add(PathTemplate("/n/{n:even}", (Segment("n"), segment)), "even")
    assert matcher.match("/n/4") == ("even", {"n": 4})
    assert matcher.match("/n/3") is None

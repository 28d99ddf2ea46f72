"""Tests for ``plait.routing.paths``."""

from __future__ import annotations

import re
import uuid

import pytest

from plait.exceptions import ConfigurationError
from plait.routing import converters
from plait.routing.converters import CONVERTERS, IntConverter, PathConverter, StrConverter
from plait.routing.paths import PathTemplate, Segment, parse_path

# --- parsing ----------------------------------------------------------------------------------


def test_root_has_no_segments() -> None:
    template = parse_path("/")
    assert template == PathTemplate("/", ())
    assert template.is_static
    assert template.param_names == frozenset()
    assert template.format({}) == "/"


def test_static_path_segments_are_literal() -> None:
    template = parse_path("/users/me")
    assert [s.text for s in template.segments] == ["users", "me"]
    assert all(s.name is None and s.converter is None and s.regex is None for s in template.segments)
    assert template.is_static
    assert template.path == "/users/me"


def test_trailing_slash_is_an_empty_last_segment() -> None:
    template = parse_path("/users/")
    assert [s.text for s in template.segments] == ["users", ""]
    assert template.format({}) == "/users/"
    assert parse_path("/users").segments != template.segments


def test_empty_middle_segment_is_kept() -> None:
    assert [s.text for s in parse_path("/a//b").segments] == ["a", "", "b"]


def test_parameter_defaults_to_str() -> None:
    (users, ident) = parse_path("/users/{id}").segments
    assert users == Segment("users")
    assert ident.text == "{id}"
    assert ident.name == "id"
    assert ident.converter is CONVERTERS["str"]
    assert isinstance(ident.converter, StrConverter)
    assert ident.regex is not None
    assert ident.regex.pattern == "[^/]+"
    assert not ident.is_path


def test_parameters_with_converters() -> None:
    template = parse_path("/users/{user_id:int}/files/{rest:path}")
    assert template.param_names == frozenset({"user_id", "rest"})
    assert not template.is_static
    user = template.segments[1]
    rest = template.segments[3]
    assert isinstance(user.converter, IntConverter)
    assert isinstance(rest.converter, PathConverter)
    assert rest.is_path
    assert not user.is_path


def test_literal_segment_is_not_a_path() -> None:
    assert not Segment("users").is_path


@pytest.mark.parametrize("name", ["_", "_private", "a1", "CamelCase", "x_y_z"])
def test_identifier_names_accepted(name: str) -> None:
    assert parse_path(f"/{{{name}}}").param_names == {name}


def test_custom_converter_with_match_anything_pattern_counts_as_path(monkeypatch: pytest.MonkeyPatch) -> None:
    class Anything(PathConverter):
        pass

    monkeypatch.setitem(converters.CONVERTERS, "anything", Anything())
    segment = parse_path("/{rest:anything}").segments[0]
    assert segment.is_path
    with pytest.raises(ConfigurationError, match="must be the last segment"):
        parse_path("/{rest:anything}/x")


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "users", "users/{id}", "{id}"])
def test_path_must_start_with_slash(path: str) -> None:
    with pytest.raises(ConfigurationError, match="must start with '/'") as info:
        parse_path(path)
    assert f"write '/{path}'" in str(info.value)


def test_duplicate_parameter_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"names \{id\} twice; rename one"):
        parse_path("/a/{id}/b/{id:int}")


def test_path_parameter_must_be_last() -> None:
    with pytest.raises(ConfigurationError, match=r"'/files/\{rest:path\}/edit'.*must be the last segment"):
        parse_path("/files/{rest:path}/edit")


def test_path_parameter_before_trailing_slash_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be the last segment"):
        parse_path("/files/{rest:path}/")


@pytest.mark.parametrize(
    "part",
    ["{id", "id}", "x{id}", "{id}x", "{1id}", "{}", "{a-b}", "{id:}", "{id:int:extra}", "{ id }", "{id:1int}"],
)
def test_malformed_parameter_segment_refused(part: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a valid parameter") as info:
        parse_path(f"/users/{part}")
    assert repr(part) in str(info.value)
    assert "{name:converter}" in str(info.value)


def test_unknown_converter_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown converter 'slug'"):
        parse_path("/posts/{p:slug}")


# --- format -----------------------------------------------------------------------------------


def test_format_fills_parameters_through_converters() -> None:
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    template = parse_path("/users/{id:int}/docs/{doc:uuid}/{rest:path}")
    assert template.format({"id": 7, "doc": uid, "rest": "a/b.txt"}) == f"/users/7/docs/{uid}/a/b.txt"


def test_format_ignores_extra_params_and_keeps_trailing_slash() -> None:
    assert parse_path("/posts/{slug}/").format({"slug": "hello", "page": 2}) == "/posts/hello/"


def test_format_missing_param_raises_key_error() -> None:
    with pytest.raises(KeyError, match="slug"):
        parse_path("/posts/{slug}").format({})


def test_format_propagates_converter_refusal() -> None:
    with pytest.raises(ValueError, match="cannot fill an int path segment"):
        parse_path("/users/{id:int}").format({"id": -3})
    with pytest.raises(ValueError, match="cannot fill a str path segment"):
        parse_path("/posts/{slug}").format({"slug": "a/b"})


def test_template_is_frozen_and_hashable() -> None:
    template = parse_path("/a/{b}")
    assert hash(template) == hash(parse_path("/a/{b}"))
    with pytest.raises(AttributeError):
        template.path = "/other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "fix"),
    [("/user/<int:id>", "{id:int}"), ("/user/<name>", "{name}"), ("/files/<path:rest>", "{rest:path}")],
)
def test_flask_angle_brackets_are_refused_with_the_plait_spelling(path: str, fix: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(fix)):
        parse_path(path)

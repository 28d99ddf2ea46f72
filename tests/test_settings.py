"""Tests for ``plait.settings``: loading typed settings from the environment and ``.env``."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
from pathlib import Path
from typing import Annotated, Literal, assert_type

import msgspec
import pytest

from plait.exceptions import ConfigurationError
from plait.settings import MIB, Settings, load_settings, read_env_file


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Pool(msgspec.Struct):
    size: int
    timeout: float = 5.0


class AppSettings(Settings, kw_only=True):
    database_url: str = "sqlite:///app.db"
    ratio: float = 0.5
    hosts: list[str] = []
    limits: dict[str, int] = {}
    pool: Pool = msgspec.field(default_factory=lambda: Pool(size=1))
    replica_url: str | None = None
    workers: int | None = None
    mode: Literal["dev", "prod"] = "dev"
    color: Color = Color.RED
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000


class RequiredSettings(Settings, kw_only=True):
    database_url: str
    api_token: str


class CheckedSettings(Settings, kw_only=True):
    def __post_init__(self) -> None:
        if self.max_part_size > self.max_body_size:
            raise ValueError("max_part_size cannot exceed max_body_size")


class CamelSettings(msgspec.Struct, kw_only=True, rename="camel"):
    page_size: int = 20


@dataclasses.dataclass
class DataclassSettings:
    api_url: str
    retries: int = 3
    tags: list[str] = dataclasses.field(default_factory=list)
    computed: str = dataclasses.field(default="fixed", init=False)


def load(environ: dict[str, str], cls: type[AppSettings] = AppSettings) -> AppSettings:
    return load_settings(cls, environ=environ, env_file=None)


def error_of(environ: dict[str, str], cls: type[msgspec.Struct] = AppSettings) -> str:
    with pytest.raises(ConfigurationError) as info:
        load_settings(cls, environ=environ, env_file=None)
    return str(info.value)


# --- sources and precedence ---------------------------------------------------------------


def test_defaults_without_any_variables() -> None:
    settings = load_settings(environ={}, env_file=None)
    assert_type(settings, Settings)
    assert settings == Settings()
    assert settings.max_body_size == 16 * MIB
    assert settings.debug is False


def test_subclass_type_is_kept() -> None:
    settings = load_settings(AppSettings, environ={}, env_file=None)
    assert_type(settings, AppSettings)
    assert type(settings) is AppSettings
    assert settings.database_url == "sqlite:///app.db"


def test_environ_overrides_defaults() -> None:
    settings = load({"PLAIT_MAX_BODY_SIZE": "1024", "PLAIT_DEBUG": "true", "PLAIT_RATIO": "0.25"})
    assert settings.max_body_size == 1024
    assert settings.debug is True
    assert settings.ratio == 0.25
    assert settings.max_form_files == 100


def test_name_after_prefix_is_case_insensitive() -> None:
    settings = load({"PLAIT_max_body_size": "10", "PLAIT_Database_Url": "postgres://db"})
    assert settings.max_body_size == 10
    assert settings.database_url == "postgres://db"


def test_prefix_itself_is_case_sensitive() -> None:
    assert load({"plait_max_body_size": "10"}).max_body_size == 16 * MIB


def test_unprefixed_and_unknown_variables_are_ignored() -> None:
    environ = {"MAX_BODY_SIZE": "1", "DEBUG": "true", "PLAIT_NO_SUCH_SETTING": "x", "PLAIT_": "x"}
    assert load(environ) == AppSettings()


def test_custom_prefix() -> None:
    settings = load_settings(
        environ={"MYAPP_MAX_BODY_SIZE": "7", "PLAIT_MAX_BODY_SIZE": "9"}, env_file=None, prefix="MYAPP_"
    )
    assert settings.max_body_size == 7


def test_empty_prefix_maps_every_variable() -> None:
    settings = load_settings(environ={"DEBUG": "1", "PATH": "/usr/bin"}, env_file=None, prefix="")
    assert settings.debug is True


def test_env_file_values_are_used(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PLAIT_MAX_BODY_SIZE=2048\nPLAIT_DEBUG=on\nOTHER=1\n", encoding="utf-8")
    settings = load_settings(environ={}, env_file=env)
    assert settings.max_body_size == 2048
    assert settings.debug is True


def test_environ_beats_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PLAIT_MAX_BODY_SIZE=2048\nPLAIT_THREAD_POOL_SIZE=8\n", encoding="utf-8")
    settings = load_settings(environ={"PLAIT_MAX_BODY_SIZE": "4096"}, env_file=str(env))
    assert settings.max_body_size == 4096
    assert settings.thread_pool_size == 8


def test_environ_beats_env_file_whatever_the_case(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PLAIT_max_body_size=2048\n", encoding="utf-8")
    settings = load_settings(environ={"PLAIT_MAX_BODY_SIZE": "4096"}, env_file=env)
    assert settings.max_body_size == 4096


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    settings = load_settings(environ={"PLAIT_DEBUG": "1"}, env_file=tmp_path / "absent.env")
    assert settings.debug is True


def test_default_env_file_is_dot_env_in_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PLAIT_MAX_FORM_FIELDS=5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).max_form_fields == 5
    assert load_settings(environ={}, env_file=None).max_form_fields == 1000


def test_default_environ_is_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"PLAIT_MAX_JSON_DEPTH": "12"})
    assert load_settings(env_file=None).max_json_depth == 12


# --- conversion -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_boolean_spellings(raw: str, expected: bool) -> None:
    assert load({"PLAIT_DEBUG": raw}).debug is expected
    assert load({"PLAIT_REDIRECT_SLASHES": raw}).redirect_slashes is expected


def test_json_valued_fields() -> None:
    settings = load(
        {
            "PLAIT_HOSTS": '["a.example", "b.example"]',
            "PLAIT_LIMITS": '{"burst": 10}',
            "PLAIT_POOL": '{"size": 4}',
        }
    )
    assert settings.hosts == ["a.example", "b.example"]
    assert settings.limits == {"burst": 10}
    assert settings.pool == Pool(size=4, timeout=5.0)


def test_json_values_convert_nested_strings_leniently() -> None:
    settings = load({"PLAIT_LIMITS": '{"burst": "10"}'})
    assert settings.limits == {"burst": 10}


def test_optional_fields_take_null_or_a_value() -> None:
    assert load({"PLAIT_WORKERS": "null"}).workers is None
    assert load({"PLAIT_WORKERS": "4"}).workers == 4
    assert load({"PLAIT_REPLICA_URL": "postgres://replica"}).replica_url == "postgres://replica"


def test_string_fields_keep_the_raw_text() -> None:
    settings = load({"PLAIT_SECRET_KEY": "123", "PLAIT_DATABASE_URL": '{"not": "json"}'})
    assert settings.secret_key == "123"
    assert settings.database_url == '{"not": "json"}'


def test_literal_enum_and_constrained_fields() -> None:
    settings = load({"PLAIT_MODE": "prod", "PLAIT_COLOR": "blue", "PLAIT_PORT": "443"})
    assert settings.mode == "prod"
    assert settings.color is Color.BLUE
    assert settings.port == 443


def test_renamed_struct_fields_use_python_names() -> None:
    settings = load_settings(CamelSettings, environ={"PLAIT_PAGE_SIZE": "50"}, env_file=None)
    assert settings.page_size == 50


def test_dataclass_settings() -> None:
    settings = load_settings(
        DataclassSettings,
        environ={"PLAIT_API_URL": "https://api.example", "PLAIT_TAGS": '["x"]', "PLAIT_COMPUTED": "no"},
        env_file=None,
    )
    assert_type(settings, DataclassSettings)
    assert settings == DataclassSettings(api_url="https://api.example", retries=3, tags=["x"])
    assert settings.computed == "fixed"


def test_dataclass_required_field_missing() -> None:
    with pytest.raises(ConfigurationError, match="PLAIT_API_URL is not set"):
        load_settings(DataclassSettings, environ={}, env_file=None)


# --- errors -----------------------------------------------------------------------------------


def test_bad_integer_names_variable_value_type_and_fix() -> None:
    message = error_of({"PLAIT_MAX_BODY_SIZE": "lots"})
    assert "PLAIT_MAX_BODY_SIZE='lots'" in message
    assert "expected an integer" in message
    assert "from the environment" in message
    assert "unset it to use its default" in message
    assert "1 setting is wrong" in message


def test_all_bad_variables_are_reported_together() -> None:
    message = error_of(
        {
            "PLAIT_MAX_BODY_SIZE": "big",
            "PLAIT_DEBUG": "maybe",
            "PLAIT_RATIO": "half",
            "PLAIT_HOSTS": "a,b",
            "PLAIT_POOL": "{not json",
            "PLAIT_THREAD_POOL_SIZE": "8",
        }
    )
    assert "5 settings are wrong" in message
    assert "PLAIT_MAX_BODY_SIZE='big'" in message
    assert "PLAIT_DEBUG='maybe'" in message
    assert "expected a boolean" in message
    assert "PLAIT_RATIO='half'" in message
    assert "expected a number" in message
    assert "PLAIT_HOSTS='a,b'" in message
    assert "expected a JSON array" in message
    assert "PLAIT_POOL='{not json'" in message
    assert "expected a JSON object" in message
    assert "PLAIT_THREAD_POOL_SIZE" not in message


def test_json_value_of_wrong_shape_explains_where() -> None:
    message = error_of({"PLAIT_HOSTS": "[1, 2]", "PLAIT_POOL": '{"size": "many"}'})
    assert "PLAIT_HOSTS='[1, 2]'" in message
    assert "$[0]" in message
    assert "PLAIT_POOL" in message
    assert "$.size" in message


@pytest.mark.parametrize(
    ("variable", "raw", "phrase"),
    [
        ("PLAIT_MODE", "test", "expected one of 'dev', 'prod'"),
        ("PLAIT_COLOR", "green", "expected one of 'red', 'blue'"),
        ("PLAIT_WORKERS", "several", "expected an integer or null"),
        ("PLAIT_PORT", "0", ">= 1"),
        ("PLAIT_PORT", "70000", "<= 65535"),
        ("PLAIT_MAX_FORM_FIELDS", "", "expected an integer"),
    ],
)
def test_bad_value_phrases(variable: str, raw: str, phrase: str) -> None:
    message = error_of({variable: raw})
    assert f"{variable}={raw!r}" in message
    assert phrase in message


def test_bad_value_from_env_file_names_the_file(tmp_path: Path) -> None:
    env = tmp_path / "prod.env"
    env.write_text("PLAIT_MAX_PART_SIZE=tiny\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_settings(environ={}, env_file=env)
    message = str(info.value)
    assert f"PLAIT_MAX_PART_SIZE='tiny' (from {env})" in message
    assert f"the environment or {env}" in message


def test_required_fields_missing_are_all_named() -> None:
    message = error_of({"PLAIT_MAX_BODY_SIZE": "x"}, RequiredSettings)
    assert "3 settings are wrong" in message
    assert "PLAIT_DATABASE_URL is not set" in message
    assert "RequiredSettings.database_url has no default" in message
    assert "PLAIT_API_TOKEN is not set" in message
    assert "PLAIT_MAX_BODY_SIZE='x'" in message


def test_required_fields_present() -> None:
    settings = load_settings(
        RequiredSettings,
        environ={"PLAIT_DATABASE_URL": "postgres://db", "PLAIT_API_TOKEN": "t0k"},
        env_file=None,
    )
    assert (settings.database_url, settings.api_token) == ("postgres://db", "t0k")


def test_required_field_may_come_from_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PLAIT_DATABASE_URL=postgres://db\nPLAIT_API_TOKEN='t'\n", encoding="utf-8")
    settings = load_settings(RequiredSettings, environ={}, env_file=env)
    assert settings.database_url == "postgres://db"
    assert settings.api_token == "t"


def test_validation_in_post_init_becomes_configuration_error() -> None:
    environ = {"PLAIT_MAX_BODY_SIZE": "10", "PLAIT_MAX_PART_SIZE": "20"}
    with pytest.raises(ConfigurationError, match="max_part_size cannot exceed max_body_size"):
        load_settings(CheckedSettings, environ=environ, env_file=None)
    assert load_settings(CheckedSettings, environ={}, env_file=None).max_part_size == MIB


def test_non_settings_class_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"msgspec\.Struct or dataclass"):
        load_settings(dict, environ={}, env_file=None)  # type: ignore[type-var]


# --- .env parsing -----------------------------------------------------------------------------


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_syntax(tmp_path: Path) -> None:
    path = write_env(
        tmp_path,
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "export\tTABBED=1\n"
        "  SPACED  =  padded value  \n"
        "EMPTY=\n"
        "SINGLE='it is # not a comment \\n'\n"
        'DOUBLE="line one\\nline two \\"quoted\\" back\\\\slash\\ttab"\n'
        "INLINE=kept # dropped\n"
        "HASH=a#b\n"
        'QUOTED_THEN_COMMENT="x"  # note\n'
        "EQUALS=a=b=c\n"
        "    # indented comment\n"
        "exported_lower=ok\n",
    )
    assert read_env_file(path) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "TABBED": "1",
        "SPACED": "padded value",
        "EMPTY": "",
        "SINGLE": "it is # not a comment \\n",
        "DOUBLE": 'line one\nline two "quoted" back\\slash\ttab',
        "INLINE": "kept",
        "HASH": "a#b",
        "QUOTED_THEN_COMMENT": "x",
        "EQUALS": "a=b=c",
        "exported_lower": "ok",
    }


def test_env_file_unknown_escape_is_kept(tmp_path: Path) -> None:
    path = write_env(tmp_path, 'PATHS="C:\\dir"\n')
    assert read_env_file(path) == {"PATHS": "C:\\dir"}


def test_env_file_later_lines_win(tmp_path: Path) -> None:
    path = write_env(tmp_path, "A=1\nA=2\n")
    assert read_env_file(path) == {"A": "2"}


def test_env_file_variable_named_export(tmp_path: Path) -> None:
    path = write_env(tmp_path, "export=1\nexporter=2\n")
    assert read_env_file(path) == {"export": "1", "exporter": "2"}


def test_env_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfPLAIT_DEBUG=true\r\nPLAIT_MAX_BODY_SIZE=5\r\n")
    assert read_env_file(path) == {"PLAIT_DEBUG": "true", "PLAIT_MAX_BODY_SIZE": "5"}
    settings = load_settings(environ={}, env_file=path)
    assert settings.debug is True
    assert settings.max_body_size == 5


def test_missing_env_file_reads_as_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "nope.env") == {}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("A=1\nJUST_A_WORD\n", 2, "has no '='"),
        ("A=1\n\n# c\n1BAD=x\n", 4, "is not a valid variable name"),
        ("BAD-NAME=x\n", 1, "is not a valid variable name"),
        ("=value\n", 1, "is not a valid variable name"),
        ("A='open\n", 1, "quote is never closed"),
        ('A="open\\"\n', 1, "quote is never closed"),
        ('A="x" y\n', 1, "unexpected text 'y' after the closing"),
        ("export A\n", 1, "has no '='"),
    ],
)
def test_malformed_env_file_names_file_and_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = write_env(tmp_path, text)
    with pytest.raises(ConfigurationError) as info:
        read_env_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: ")
    assert reason in message
    assert "KEY=value" in message


def test_malformed_env_file_fails_load_settings(tmp_path: Path) -> None:
    path = write_env(tmp_path, "PLAIT_DEBUG=true\nnot a line\n")
    with pytest.raises(ConfigurationError, match="line 2"):
        load_settings(environ={}, env_file=path)


def test_unreadable_env_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"PLAIT_SECRET_KEY=\xff\xfe\n")
    with pytest.raises(ConfigurationError, match="UTF-8 text file, or pass env_file=None"):
        read_env_file(path)
    with pytest.raises(ConfigurationError, match="Cannot read the settings file"):
        load_settings(environ={}, env_file=tmp_path)


class OddTypes(msgspec.Struct, kw_only=True):
    started: datetime.datetime = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    window: tuple[int, int] = (0, 1)
    blob: bytearray = bytearray()


def test_other_types_convert_and_describe_themselves() -> None:
    settings = load_settings(
        OddTypes,
        environ={"PLAIT_STARTED": "2025-06-01T08:30:00Z", "PLAIT_WINDOW": "[2, 3]"},
        env_file=None,
    )
    assert settings.started == datetime.datetime(2025, 6, 1, 8, 30, tzinfo=datetime.UTC)
    assert settings.window == (2, 3)
    message = error_of({"PLAIT_STARTED": "soon", "PLAIT_WINDOW": "2", "PLAIT_BLOB": "%%%"}, OddTypes)
    assert "PLAIT_STARTED='soon' (from the environment): expected an ISO 8601 date and time" in message
    assert "PLAIT_WINDOW='2' (from the environment): expected a JSON array" in message
    assert "PLAIT_BLOB='%%%' (from the environment): expected a value of type bytearray" in message


def test_enum_error_does_not_repeat_itself() -> None:
    message = error_of({"PLAIT_COLOR": "green"})
    assert "PLAIT_COLOR='green' (from the environment): expected one of 'red', 'blue'\n" in message


def test_request_head_limits_have_safe_defaults_and_read_the_environment() -> None:
    defaults = Settings()
    assert (defaults.max_query_params, defaults.max_query_string_size, defaults.max_header_size) == (
        1000,
        64 * 1024,
        64 * 1024,
    )
    environ = {"PLAIT_MAX_QUERY_PARAMS": "50", "PLAIT_MAX_QUERY_STRING_SIZE": "2048", "PLAIT_MAX_HEADER_SIZE": "8192"}
    loaded = load_settings(environ=environ, env_file=None)
    assert (loaded.max_query_params, loaded.max_query_string_size, loaded.max_header_size) == (50, 2048, 8192)


@pytest.mark.parametrize("name", ["max_query_params", "max_query_string_size", "max_header_size"])
def test_request_head_limits_must_be_positive(name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"Settings.{name} must be at least 1.*PLAIT_{name.upper()}"):
        load_settings(environ={f"PLAIT_{name.upper()}": "0"}, env_file=None)

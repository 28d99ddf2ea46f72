"""The plait commands through click's CliRunner; the server start is replaced by a recorder."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from plait.cli import main, servers
from plait.cli.servers import ServerConfig
from tests.test_cli.conftest import PLAIT_APP, WriteFile


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ServerConfig, dict[str, str]]]:
    """Server starts, recorded instead of run: (server, config, the environment they would inherit)."""
    calls: list[tuple[str, ServerConfig, dict[str, str]]] = []

    def record(name: str, config: ServerConfig) -> None:
        calls.append((name, config, dict(os.environ)))

    monkeypatch.setattr(servers, "start_server", record)
    return calls


# -- routes ------------------------------------------------------------------------------------------


def test_routes_prints_aligned_columns(project: Path, write: WriteFile) -> None:
    write(
        "app.py",
        PLAIT_APP
        + """
@app.post("/items/{item_id:int}", name="make_item")
def create(item_id: int) -> dict[str, int]:
    return {"id": item_id}
""",
    )
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "ENDPOINT"]
    assert lines[1].split() == ["GET,HEAD", "/", "index", "app.index"]
    assert lines[2].split() == ["POST", "/items/{item_id:int}", "make_item", "app.create"]
    for column in ("PATH", "NAME", "ENDPOINT"):
        start = lines[0].index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[1:])


def test_routes_of_an_app_without_routes(project: Path, write: WriteFile) -> None:
    write("bare.py", "from plait.app import Plait\napp = Plait(openapi_url=None, docs_url=None, redoc_url=None)\n")
    result = invoke("routes", "bare.py")
    assert result.exit_code == 0
    assert result.output == "No routes.\n"


def test_routes_shows_configuration_errors_without_a_traceback(project: Path, write: WriteFile) -> None:
    write(
        "twice.py",
        PLAIT_APP
        + """
@app.get("/")
def again() -> dict[str, str]:
    return {}
""",
    )
    result = invoke("routes", "twice.py")
    assert result.exit_code == 1
    assert "Error: twice:app is misconfigured: GET / is routed twice" in result.output
    assert "Traceback" not in result.output


def test_routes_needs_a_plait_app(project: Path, write: WriteFile) -> None:
    write("raw.py", "async def app(scope, receive, send):\n    pass\n")
    result = invoke("routes", "raw.py")
    assert result.exit_code == 1
    assert "is a function, not a Plait app" in result.output


def test_discovery_errors_are_clean(project: Path) -> None:
    result = invoke("routes")
    assert result.exit_code == 1
    assert result.output.startswith("Error: No APP was given")
    assert "plait routes myproject.app:app" in result.output
    assert "Traceback" not in result.output


# -- version -----------------------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Plait 0.1.0"
    assert lines[1].startswith(f"Python {platform.python_version()}")
    assert lines[2].startswith("granian 2.")
    assert lines[3].startswith("uvicorn ")


# -- serve -------------------------------------------------------------------------------------------


def test_serve_refuses_without_a_secret_key(project: Path, write: WriteFile, started: list[Any]) -> None:
    write("prod_app.py", PLAIT_APP)
    result = invoke("serve", "prod_app:app")
    assert result.exit_code == 1
    assert "Refusing to serve prod_app:app: it has no secret key" in result.output
    assert "PLAIT_SECRET_KEY" in result.output
    assert "secrets.token_urlsafe(32)" in result.output
    assert started == []


def test_serve_starts_with_production_defaults(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "s3cret")
    write("src/prod_site.py", PLAIT_APP)
    result = invoke("serve", "src/prod_site.py", "--workers", "3", "--port", "9001")
    assert result.exit_code == 0, result.output
    assert "Plait serving http://0.0.0.0:9001 (all interfaces)" in result.output
    [(name, config, environ)] = started
    assert name == "granian"
    assert config == ServerConfig(
        "prod_site:app", project / "src", host="0.0.0.0", port=9001, reload=False, workers=3, factory=False
    )
    assert environ["PYTHONPATH"].split(os.pathsep)[0] == str(project / "src")


def test_serve_reads_the_secret_key_from_dot_env(project: Path, write: WriteFile, started: list[Any]) -> None:
    write(".env", "PLAIT_SECRET_KEY=from-the-file\n")
    write("env_app.py", PLAIT_APP)
    result = invoke("serve", "env_app.py", "--server", "uvicorn", "--host", "::1")
    assert result.exit_code == 0, result.output
    assert "Plait serving http://[::1]:8000\n" in result.output
    assert started[0][0] == "uvicorn"


def test_serve_with_a_factory(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "s3cret")
    write("made.py", "from plait.app import Plait\n\ndef create_app() -> Plait:\n    return Plait()\n")
    assert invoke("serve", "made:create_app").exit_code == 1
    result = invoke("serve", "made:create_app", "--factory")
    assert result.exit_code == 0, result.output
    assert started[0][1].factory is True
    assert started[0][1].target == "made:create_app"


def test_serve_refuses_a_misconfigured_app(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "s3cret")
    write(
        "bad_path.py",
        'from plait.app import Plait\napp = Plait()\n\n@app.get("/{x}")\ndef f() -> str:\n    return ""\n',
    )
    result = invoke("serve", "bad_path.py")
    assert result.exit_code == 1
    assert "bad_path:app is misconfigured" in result.output
    assert "add a parameter named 'x'" in result.output
    assert started == []


# -- run ---------------------------------------------------------------------------------------------


def test_run_generates_a_secret_key_for_development(project: Path, write: WriteFile, started: list[Any]) -> None:
    write("app.py", PLAIT_APP)
    result = invoke("run")
    assert result.exit_code == 0, result.output
    assert "PLAIT_SECRET_KEY is not set, so a random one was generated" in result.output
    assert "Plait serving http://127.0.0.1:8000\n" in result.output
    [(name, config, environ)] = started
    key = environ["PLAIT_SECRET_KEY"]
    assert len(key) >= 40
    assert sys.modules["app"].app.settings.secret_key == key  # the app was imported after the key was set
    assert name == "granian"
    assert config == ServerConfig("app:app", project, host="127.0.0.1", port=8000, reload=True, workers=1)


def test_run_keeps_a_configured_secret_key(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "mine")
    write("dev_app.py", PLAIT_APP)
    result = invoke("run", "dev_app.py", "--no-reload", "--server", "uvicorn", "--port", "9000", "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert "generated" not in result.output
    [(name, config, environ)] = started
    assert environ["PLAIT_SECRET_KEY"] == "mine"
    assert (name, config.reload, config.port, config.host) == ("uvicorn", False, 9000, "0.0.0.0")


def test_run_keeps_a_secret_key_from_dot_env(project: Path, write: WriteFile, started: list[Any]) -> None:
    write(".env", "PLAIT_SECRET_KEY=dotenv-key\n")
    write("main.py", PLAIT_APP)
    result = invoke("run")
    assert result.exit_code == 0, result.output
    assert "generated" not in result.output
    assert "PLAIT_SECRET_KEY" not in started[0][2]
    assert sys.modules["main"].app.settings.secret_key == "dotenv-key"


def test_run_reports_a_broken_dot_env(project: Path, write: WriteFile, started: list[Any]) -> None:
    write(".env", "this line has no equals sign\n")
    result = invoke("run")
    assert result.exit_code == 1
    assert ".env, line 1" in result.output
    assert started == []


def test_run_rejects_an_unknown_server(project: Path, write: WriteFile) -> None:
    write("app.py", PLAIT_APP)
    result = invoke("run", "--server", "gunicorn")
    assert result.exit_code == 2
    assert "'gunicorn' is not one of 'granian', 'uvicorn'" in result.output


# -- servers -----------------------------------------------------------------------------------------


class FakeGranian:
    made: list[tuple[str, dict[str, Any]]] = []
    served = 0

    def __init__(self, target: str, **options: Any) -> None:
        FakeGranian.made.append((target, options))

    def serve(self) -> None:
        FakeGranian.served += 1


def test_granian_is_started_with_the_asgi_interface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import granian

    FakeGranian.made, FakeGranian.served = [], 0
    monkeypatch.setattr(granian, "Granian", FakeGranian)
    monkeypatch.setattr(servers, "_can_watch_files", lambda: True)
    servers.start_server("granian", ServerConfig("m:app", tmp_path, port=8123, reload=True, workers=2))
    [(target, options)] = FakeGranian.made
    assert target == "m:app"
    assert FakeGranian.served == 1
    assert str(options.pop("interface")) == "asgi"
    assert str(options.pop("loop")) == "uvloop"
    assert options.pop("http1_settings").max_buffer_size == 64 * 1024 + servers.HEAD_SLACK
    assert options.pop("http2_settings").max_headers_size == 64 * 1024 + servers.HEAD_SLACK
    assert options == {
        "address": "127.0.0.1",
        "port": 8123,
        "workers": 2,
        "reload": True,
        "reload_paths": [tmp_path],
        "reload_ignore_patterns": list(servers.RUNTIME_FILES),
        "factory": False,
        "working_dir": tmp_path,
    }


def test_granian_without_watchfiles_serves_without_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import granian

    FakeGranian.made = []
    monkeypatch.setattr(granian, "Granian", FakeGranian)
    monkeypatch.setattr(servers, "_can_watch_files", lambda: False)
    servers.start_server("granian", ServerConfig("m:app", tmp_path, reload=True))
    assert FakeGranian.made[0][1]["reload"] is False
    assert "pip install 'granian[reload]'" in capsys.readouterr().err


def test_uvicorn_is_given_the_import_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append((target, options)))
    servers.start_server("uvicorn", ServerConfig("m:make", tmp_path, reload=True, factory=True))
    assert calls == [
        (
            "m:make",
            {
                "host": "127.0.0.1",
                "port": 8000,
                "reload": True,
                "reload_dirs": [str(tmp_path)],
                "workers": 1,
                "factory": True,
                "app_dir": str(tmp_path),
                "lifespan": "auto",
                "loop": "uvloop",
                "h11_max_incomplete_event_size": 64 * 1024 + servers.HEAD_SLACK,
            },
        )
    ]


def test_uvicorn_missing_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes "import uvicorn" fail
    with pytest.raises(click.ClickException, match=r"pip install 'plait\[uvicorn\]'"):
        servers.start_server("uvicorn", ServerConfig("m:app", tmp_path))


def test_unknown_server_name(tmp_path: Path) -> None:
    with pytest.raises(click.ClickException, match="choose one of granian, uvicorn"):
        servers.start_server("hypercorn", ServerConfig("m:app", tmp_path))


def test_server_versions() -> None:
    versions = servers.server_versions()
    assert set(versions) == {"granian", "uvicorn"}
    assert versions["granian"].startswith("2.")


def test_uvloop_is_the_event_loop_where_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert servers.event_loop() == "uvloop"
    monkeypatch.setattr(sys, "platform", "win32")
    assert servers.event_loop() == "auto"


def test_serve_passes_the_apps_header_limit_to_the_server(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "s3cret")
    monkeypatch.setenv("PLAIT_MAX_HEADER_SIZE", "20000")
    write("limited.py", PLAIT_APP)
    assert invoke("serve", "limited.py").exit_code == 0
    assert started[0][1].max_header_size == 20000


def test_serve_uses_the_default_header_limit_for_other_asgi_apps(
    project: Path, write: WriteFile, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_SECRET_KEY", "s3cret")
    write("bare.py", "async def app(scope, receive, send):\n    pass\n")
    assert invoke("serve", "bare:app").exit_code == 0, started
    assert started[0][1].max_header_size == 64 * 1024


def test_uvicorn_repeating_sigterm_after_its_graceful_stop_still_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    import uvicorn

    # What uvicorn does after a graceful shutdown: raise the signal again, which would kill the process.
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: signal.raise_signal(signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    servers.start_server("uvicorn", ServerConfig("m:app", tmp_path))  # returns: the signal was absorbed
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("db.sqlite3", True),
        ("db.sqlite3-wal", True),
        ("app.db-journal", True),
        ("server.log", True),
        ("app.py", False),
        ("index.html", False),
    ],
)
def test_granian_reload_ignores_files_the_app_writes(name: str, ignored: bool) -> None:
    import re

    assert any(re.search(pattern, name) for pattern in servers.RUNTIME_FILES) is ignored

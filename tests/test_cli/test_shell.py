"""``plait shell``: the app running in a background loop, top-level await, -c, the REPL on stdin, IPython."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from plait.cli import main
from plait.cli import shell as shell_module
from tests.test_cli.conftest import WriteFile

APP = """
import contextlib

from plait import Plait
from plait.extensions import Extension

events = []


class Greeter(Extension):
    name = "greeter"

    @contextlib.asynccontextmanager
    async def _names(self):
        events.append("opened")
        yield {"greeting": "hello"}
        events.append("closed")

    def shell_context(self, app):
        return self._names()


class Quiet(Extension):
    name = "quiet"  # offers the shell nothing


app = Plait(extensions=[Greeter(), Quiet()])


@app.on_startup
async def started() -> None:
    events.append("started")


async def answer() -> int:
    return 42
"""


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["shell", *args], input=stdin)


def test_command_runs_code_with_the_app_running_and_await_allowed(project: Path, write: WriteFile) -> None:
    write("app.py", APP)
    result = invoke("-c", "import app as m\nprint(await m.answer(), greeting, m.events, settings.debug)")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "42 hello ['started', 'opened'] False"
    assert sys.modules["app"].events == ["started", "opened", "closed"]  # the lifespan ended with the shell


def test_the_plain_repl_reads_stdin_and_awaits_on_the_apps_loop(project: Path, write: WriteFile) -> None:
    write("app.py", APP)
    typed = "import app as m\nx = await m.answer()\nx + 1\n1 / 0\nprint(greeting)\n"
    result = invoke("--plain", stdin=typed)
    assert result.exit_code == 0, result.output
    assert "Plait shell: app, settings, greeting" in result.output
    assert "43" in result.output
    assert "ZeroDivisionError" in result.output  # shown, and the shell goes on
    assert "hello" in result.output


def test_a_failing_command_exits_non_zero(project: Path, write: WriteFile) -> None:
    write("app.py", APP)
    result = invoke("-c", "raise ValueError('boom')")
    assert result.exit_code == 1
    assert "ValueError: boom" in result.output


def test_exit_ends_the_repl_with_its_code(project: Path, write: WriteFile) -> None:
    write("app.py", APP)
    result = invoke("--plain", stdin="import app as m\nraise SystemExit(3)\nprint('not reached')\n")
    assert result.exit_code == 3
    assert "not reached" not in result.output
    assert sys.modules["app"].events[-1] == "closed"


def test_a_shutdown_failure_is_reported(project: Path, write: WriteFile) -> None:
    write("app.py", APP + "\n@app.on_shutdown\nasync def broken() -> None:\n    raise RuntimeError('stuck')\n")
    result = invoke("-c", "print('ran')")
    assert result.exit_code == 1
    assert "ran" in result.output
    assert "The app failed to shut down: RuntimeError: stuck" in result.output


def test_startup_failures_and_non_plait_apps_are_reported(project: Path, write: WriteFile) -> None:
    write("app.py", APP + "\n@app.on_startup\nasync def broken() -> None:\n    raise RuntimeError('no db')\n")
    result = invoke("-c", "print(1)")
    assert result.exit_code == 1
    assert "The app failed to start: RuntimeError: no db" in result.output
    write("raw.py", "async def app(scope, receive, send):\n    pass\n")
    raw = invoke("raw.py", "-c", "print(1)")
    assert raw.exit_code == 1
    assert "is not a Plait app; plait shell needs one" in raw.output
    write("bad.py", "from plait import Plait\napp = Plait()\n@app.get('/{x}')\ndef h() -> None: ...\n")
    bad = invoke("bad.py", "-c", "print(1)")
    assert bad.exit_code == 1
    assert "is misconfigured" in bad.output


def test_ipython_is_used_when_installed(project: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch) -> None:
    """IPython gets the names, autoawait, and a loop runner that awaits on the app's loop."""
    write("app.py", APP)
    seen: dict[str, Any] = {}

    def start_ipython(argv: list[str], user_ns: dict[str, Any], config: Any) -> None:
        seen.update(user_ns=user_ns, config=config)
        module, _, name = config.InteractiveShell.loop_runner.rpartition(".")
        seen["awaited"] = getattr(importlib.import_module(module), name)(sys.modules["app"].answer())

    class Config(types.SimpleNamespace):
        def __getattr__(self, name: str) -> Any:
            value = Config()
            setattr(self, name, value)
            return value

    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(start_ipython=start_ipython))
    monkeypatch.setitem(sys.modules, "traitlets.config", types.SimpleNamespace(Config=Config))
    monkeypatch.setattr(shell_module, "has_ipython", lambda: True)
    result = invoke()
    assert result.exit_code == 0, result.output
    assert seen["user_ns"]["greeting"] == "hello"
    assert seen["config"].InteractiveShell.autoawait is True
    assert seen["awaited"] == 42
    late = sys.modules["app"].answer()
    with pytest.raises(RuntimeError, match="no loop to run on"):
        shell_module.run_on_app_loop(late)  # the shell has ended
    late.close()


def test_a_real_terminal_session(project: Path, write: WriteFile) -> None:
    """The installed command, fed through a pipe as a user would type it."""
    write("app.py", APP)
    typed = "import app as m\nprint('answer', await m.answer())\n"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "plait"), "shell", "--plain"],
        input=typed,
        capture_output=True,
        text=True,
        cwd=project,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "answer 42" in done.stdout
    assert "Plait shell: app, settings, greeting" in done.stderr

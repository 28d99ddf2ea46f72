"""The jobs battery stays out of the core, names what to install, and keeps a pinned public surface."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import plait.jobs


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)


def test_the_core_never_imports_jobs_or_channels() -> None:
    result = run(
        """
        import sys
        import plait, plait.app, plait.extensions, plait.testing, plait.cli
        app = plait.Plait()
        app.build()
        print(sorted(m for m in sys.modules if m.startswith(("plait.jobs", "plait.channels", "taskiq", "redis"))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_taskiq_the_import_error_says_what_to_install() -> None:
    result = run(
        """
        import sys
        sys.modules["taskiq"] = None
        import plait.jobs
        """
    )
    assert result.returncode == 1
    assert "plait.jobs needs taskiq and taskiq-redis" in result.stderr
    assert "pip install 'plait[jobs]'" in result.stderr


def test_the_public_names() -> None:
    assert sorted(plait.jobs.__all__) == [
        "Job",
        "JobArgumentError",
        "JobFailed",
        "JobHandle",
        "JobTimeout",
        "Jobs",
        "JobsError",
        "JobsSettings",
        "JobsUnavailable",
        "StreamBroker",
    ]

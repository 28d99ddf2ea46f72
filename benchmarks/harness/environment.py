"""The machinery around a run: the peers venv, wrk, and what the report records about the machine.

This module runs first under whatever ``python3`` started the harness, so it uses only the
standard library; once the peers venv is ready the harness re-executes itself inside it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness.config import GENERATED_DIR, PEERS_DIR, REPO_DIR, REQUIREMENTS, Framework

STAMP = PEERS_DIR / ".installed"
REEXEC_MARK = "PLAIT_BENCH_REEXEC"
REPORTED_DISTRIBUTIONS = (
    "plait", "blacksheep", "starlette", "litestar", "fastapi", "flask", "django", "granian", "uvicorn",
    "uvloop", "msgspec", "pydantic", "python-multipart",
)  # fmt: skip


def _fingerprint() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update((REPO_DIR / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def peers_python() -> Path:
    return PEERS_DIR / "bin" / "python"


def ensure_peers() -> None:
    """Create (or refresh) benchmarks/.venv-peers when the requirements or Plait's pyproject changed."""
    if peers_python().exists() and STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print(f"Installing the peers venv in {PEERS_DIR} (once; a minute or two)...", flush=True)
    if not peers_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_DIR)], check=True)
    pip = [str(peers_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS), "-e", str(REPO_DIR)], check=True)
    STAMP.write_text(_fingerprint())


def running_in_peers() -> bool:
    return Path(sys.prefix).resolve() == PEERS_DIR.resolve()


def reexec_in_peers(script: Path, argv: list[str]) -> None:
    """Replace this process by the same command under the peers venv's Python."""
    if os.environ.get(REEXEC_MARK):
        raise SystemExit(f"Re-executing under {peers_python()} did not land in the peers venv; delete it and rerun.")
    os.environ[REEXEC_MARK] = "1"
    # Same arguments, new interpreter: nothing here comes from outside the command line already given.
    os.execv(str(peers_python()), [str(peers_python()), str(script), *argv])  # noqa: S606


def tool(name: str) -> str:
    """The absolute path of a command on PATH, or an error that says what to install."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not on PATH; install it and rerun.")
    return path


def ensure_tools() -> None:
    """wrk (installed from Debian when missing) and taskset must be on PATH."""
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            raise SystemExit("wrk is missing: install it (sudo apt-get install -y wrk) and rerun.")
        print("Installing wrk from Debian...", flush=True)
        apt = tool("apt-get")
        subprocess.run([apt, "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([apt, "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    if shutil.which("taskset") is None:
        raise SystemExit("taskset is missing: install util-linux (apt-get install -y util-linux) and rerun.")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("The harness pins the server and wrk to two different cores; this machine has one.")


def versions() -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    for name in REPORTED_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["wrk"] = _first_line([tool("wrk"), "--version"])
    return found


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").strip() or "n/a"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "kernel": platform.release(),
        "os": _os_name(),
        "cpu_governor": governor,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _memory() -> str:
    first = (_read("/proc/meminfo").splitlines() or ["MemTotal: 0 kB"])[0].split()
    return f"{int(first[1]) / 1024 / 1024:.1f} GiB" if len(first) >= 2 and first[1].isdigit() else "unknown"


def git_commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        head = subprocess.run([git, "rev-parse", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True)
        dirty = subprocess.run([git, "status", "--porcelain"], cwd=REPO_DIR, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.system()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return ((done.stdout or done.stderr).strip().splitlines() or ["unknown"])[0]


def baseline_framework(revision: str) -> Framework:
    """Export ``src/`` of an earlier commit and describe it as one more framework, served by ``plait_base_app``.

    The export goes to ``.generated/baseline/<sha>/``; the servers find it through ``BENCH_PLAIT_BASELINE``
    (the harness drops only ``PLAIT_*`` variables from their environment).
    """
    try:
        sha = subprocess.run(
            [tool("git"), "rev-parse", "--verify", f"{revision}^{{commit}}"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"--baseline {revision!r} is not a commit of this repository: {exc.stderr.strip()}") from None
    target = GENERATED_DIR / "baseline" / sha
    if not (target / "src" / "plait").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        git = tool("git")
        archive = subprocess.run([git, "archive", sha, "src"], cwd=REPO_DIR, capture_output=True, check=True).stdout
        subprocess.run([tool("tar"), "-x", "-C", str(target)], input=archive, check=True)
    os.environ["BENCH_PLAIT_BASELINE"] = str(target / "src")
    return Framework("plait-base", f"Plait @{sha[:7]}", "plait_base_app", distribution="plait")

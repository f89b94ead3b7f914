"""Running the small Hydra apps of tests/apps as real subprocesses."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).resolve().parents[1] / "apps"


def hydra_pythons() -> list[str]:
    """Interpreters to run the apps with: this one (Hydra 1.3) plus any listed in
    ``HYDRATRACK_TEST_PYTHONS`` (e.g. a Python 3.10 venv with hydra-core==1.2.0 and
    hydratrack installed: ``scripts/hydra12-venv`` makes one, ``scripts/test`` sets it)."""
    extra = [p for p in os.environ.get("HYDRATRACK_TEST_PYTHONS", "").split(os.pathsep) if p]
    return [sys.executable, *extra]


def app_path(name: str) -> Path:
    return APPS / name / "app.py"


@dataclasses.dataclass
class AppRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def task_id(self) -> str:
        m = re.search(r"HYDRATRACK_TASK=([0-9a-f]{32})", self.stdout)
        assert m, f"no task id printed\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return m.group(1)

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("hydratrack: warning")]


def run_app(
    name: str,
    overrides: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 60.0,
    python: str = sys.executable,
) -> AppRun:
    """Run ``tests/apps/<name>/app.py`` with ``overrides`` (Hydra writes outputs under cwd)."""
    proc = subprocess.run(
        check=False,
        args=[python, str(app_path(name)), *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return AppRun(proc.returncode, proc.stdout, proc.stderr)


def hydra_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import hydra; print(hydra.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def as_shown(text: str) -> str:
    """A config text as the server shows it: secret values (``db.pass``) read masked
    (the server's default --secret-pattern; the store keeps the real text)."""
    from hydratrack.server.secrets import SecretMask
    from hydratrack.server.settings import ServerSettings

    return SecretMask(ServerSettings().secret_pattern).text(text)


def hydra_cfg_job(
    name: str, overrides: list[str], env: dict[str, str], cwd: Path, python: str = sys.executable
) -> str:
    """The oracle: what Hydra itself prints for ``--cfg job`` with the same overrides."""
    proc = subprocess.run(
        check=False,
        args=[python, str(app_path(name)), "--cfg", "job", *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout

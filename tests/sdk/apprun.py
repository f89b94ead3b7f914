"""Running the small Hydra apps of tests/apps as real subprocesses."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).resolve().parents[1] / "apps"


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


def run_app(name: str, overrides: list[str], env: dict[str, str], cwd: Path,
            timeout: float = 60.0) -> AppRun:
    """Run ``tests/apps/<name>/app.py`` with ``overrides`` (Hydra writes outputs under cwd)."""
    proc = subprocess.run([sys.executable, str(app_path(name)), *overrides], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return AppRun(proc.returncode, proc.stdout, proc.stderr)


def hydra_cfg_job(name: str, overrides: list[str], env: dict[str, str], cwd: Path) -> str:
    """The oracle: what Hydra itself prints for ``--cfg job`` with the same overrides."""
    proc = subprocess.run([sys.executable, str(app_path(name)), "--cfg", "job", *overrides],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout

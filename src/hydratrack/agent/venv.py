"""``--venv``: a virtual environment per set of recorded packages, cached by their hash.

The task's ``script.requirements.pip`` (``{"name": "version"}``, what the SDK recorded) is
installed pinned into ``<workdir>/venvs/<hash>`` with ``uv`` when it is on PATH, else with
``python -m venv`` and pip. A venv is built once and reused by every task with the same
packages and Python version. Limits: packages are installed from the index the installer is
configured with (no local wheels or editable installs of the recorded run); ``pip``,
``setuptools``, ``wheel`` and ``hydratrack`` itself are left out, and the agent's own
hydratrack is made importable in the venv (a ``.pth`` file) so ``Task.init`` and the edit
callback work.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

from hydratrack.agent.interpreter import Interpreter
from hydratrack.agent.workspace import WorkspaceError

SKIPPED = {"pip", "setuptools", "wheel", "hydratrack", "distribute"}
INSTALL_TIMEOUT = 1800.0


def pinned_requirements(task: Mapping[str, Any]) -> list[str]:
    pip = ((task.get("script") or {}).get("requirements") or {}).get("pip") or {}
    return sorted(
        f"{name}=={version}"
        for name, version in pip.items()
        if name.lower().replace("_", "-") not in SKIPPED and version
    )


def venv_key(requirements: list[str], python: str) -> str:
    data = json.dumps({"python": python, "requirements": requirements}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:20]


class VenvCache(Interpreter):
    name = "venv"

    def __init__(self, root: Path, base_python: str = sys.executable) -> None:
        super().__init__(base_python)
        self.root = Path(root)
        self.base_python = base_python

    def python_for(self, task: Mapping[str, Any]) -> str:
        """The interpreter of the venv for ``task``'s packages (built on first use)."""
        requirements = pinned_requirements(task)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        path = self.root / venv_key(requirements, version)
        python = path / "bin" / "python"
        if (path / ".complete").exists() and python.exists():
            return str(python)
        tmp = path.with_suffix(".building")
        shutil.rmtree(tmp, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self._build(tmp, requirements)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
        # only bin/python is used: it finds the venv from its own location, so the rename is safe
        (path / ".complete").write_text("\n".join(requirements) + "\n")
        return str(python)

    def _build(self, target: Path, requirements: list[str]) -> None:
        uv = shutil.which("uv")
        if uv:
            _run([uv, "venv", "--quiet", "--python", self.base_python, str(target)])
        else:
            _run([self.base_python, "-m", "venv", str(target)])
        python = target / "bin" / "python"
        if requirements:
            if uv:
                _run([uv, "pip", "install", "--quiet", "--python", str(python), *requirements])
            else:
                _run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        *requirements,
                    ]
                )
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        own = Path(__file__).resolve().parents[2]  # the directory holding the hydratrack package
        Path(site, "hydratrack_agent.pth").write_text(str(own) + "\n")


def _run(args: list[str]) -> None:
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkspaceError(f"cannot build the task's venv: {exc}") from None
    if done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise WorkspaceError(f"cannot build the task's venv ({' '.join(args[:3])} ...): {tail}")

"""Peer venvs (ClearML, MLflow) under ``bench/.peers/``, installed on first use.

Each peer gets its own virtual environment made with the running interpreter, with
the peer package and hydra-core from PyPI through pip. A marker file records what
was installed, so later runs start at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / ".peers"


def _hydra_pin() -> str:
    """hydra-core at the version the hydratrack side runs, so apps compose alike."""
    import importlib.metadata

    try:
        return "hydra-core==" + importlib.metadata.version("hydra-core")
    except importlib.metadata.PackageNotFoundError:
        return "hydra-core"


# What each peer venv holds.
PEER_REQUIREMENTS: dict[str, list[str]] = {
    "clearml": ["clearml", _hydra_pin()],
    "mlflow": ["mlflow", _hydra_pin()],
}


class PeerInstallError(RuntimeError):
    pass


def venv_python(name: str) -> Path:
    return PEERS_DIR / name / "bin" / "python"


def _marker(name: str) -> Path:
    return PEERS_DIR / name / "bench-installed.json"


def installed_versions(name: str) -> dict[str, str]:
    """``{"clearml": "2.0.1", ...}`` for an installed peer, ``{}`` if not installed."""
    try:
        return json.loads(_marker(name).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def ensure_peer(name: str, log=print) -> Path:
    """Create and fill the venv of peer ``name`` unless done before; return its python."""
    if name not in PEER_REQUIREMENTS:
        raise PeerInstallError(f"unknown peer {name!r}; known: {', '.join(PEER_REQUIREMENTS)}")
    py = venv_python(name)
    if installed_versions(name) and py.exists():
        return py
    target = PEERS_DIR / name
    log(f"[bench] installing {name} into {target} (pip, one time) ...")
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    cmd = [
        str(py),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *PEER_REQUIREMENTS[name],
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PeerInstallError(f"pip install for {name} failed:\n{proc.stderr[-3000:]}")
    versions = _query_versions(py, [r.split("=")[0] for r in PEER_REQUIREMENTS[name]])
    _marker(name).write_text(json.dumps(versions, indent=1))
    log(f"[bench] {name} ready: {versions}")
    return py


def _query_versions(py: Path, dists: list[str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps({d: m.version(d) for d in sys.argv[1:]}))"
    )
    out = subprocess.run([str(py), "-c", code, *dists], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def peer_env(name: str, workdir: Path) -> dict[str, str]:
    """Environment for a peer process: offline ClearML, MLflow on a SQLite file."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HYDRATRACK_", "CLEARML_", "MLFLOW_"))
    }
    env["HOME"] = str(workdir / "home")
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    env["PYTHONUNBUFFERED"] = "1"
    if name == "clearml":
        env["CLEARML_OFFLINE_MODE"] = "1"
        env["CLEARML_CACHE_DIR"] = str(workdir / "clearml-cache")
    if name == "mlflow":
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
    return env


if __name__ == "__main__":
    for peer in sys.argv[1:] or list(PEER_REQUIREMENTS):
        ensure_peer(peer)

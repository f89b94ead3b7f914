"""``--venv``: environments built from recorded packages, cached by their hash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hydratrack.agent.venv import VenvCache, pinned_requirements, venv_key
from hydratrack.agent.workspace import WorkspaceError


def task(pip: dict[str, str]) -> dict:
    return {"id": "a" * 32, "script": {"requirements": {"pip": pip, "python": "3.11.7"}}}


def test_requirements_are_pinned_sorted_and_skip_tooling() -> None:
    pins = pinned_requirements(
        task({"omegaconf": "2.3.0", "pip": "24.0", "hydratrack": "0.1.0", "Attrs": "23.1"})
    )
    assert pins == ["Attrs==23.1", "omegaconf==2.3.0"]
    assert venv_key(pins, "3.11") == venv_key(list(pins), "3.11") != venv_key(pins, "3.12")


def test_venv_is_built_once_and_runs_hydratrack(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "venvs")
    python = cache.python_for(task({}))
    marker = Path(python).parents[1] / ".complete"
    first = marker.stat().st_mtime_ns
    assert cache.python_for(task({"pip": "1"})) == python  # same packages after skipping: cached
    assert marker.stat().st_mtime_ns == first
    out = subprocess.run(
        [python, "-c", "import sys, hydratrack.edits; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(Path(python).parents[1])


def test_a_venv_that_cannot_be_built_says_why(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="cannot build the task's venv"):
        VenvCache(tmp_path / "venvs").python_for(task({"not a valid name!": "1"}))
    assert not any(p.name.endswith(".complete") for p in (tmp_path / "venvs").rglob("*"))

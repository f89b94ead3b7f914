"""Preparing a task's code: a clean checkout of the recorded commit plus the recorded diff.

* ``script.repository`` and ``script.commit`` recorded: the repository (a local path or a
  remote URL) is cloned once into ``<workdir>/repos/<hash>`` and fetched when the commit is
  missing; each task gets a fresh shared clone in ``<workdir>/runs/<task id>`` checked out
  at the commit, and the recorded uncommitted diff (``script.diff``) is applied with
  ``git apply``. Untracked files are not part of a diff (the SDK lists them as comments).
* No repository: the script runs in its recorded ``working_dir``, which must exist on this
  machine (the same machine, or a shared file system).

Any failure raises :class:`WorkspaceError` with git's own message; the agent fails the task
with it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping

GIT_TIMEOUT = 600.0


class WorkspaceError(Exception):
    """The task's code cannot be prepared; the message says why."""


def _git(args: list[str], cwd: Path | None = None, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
        )
    except FileNotFoundError:
        raise WorkspaceError("git is not installed on the agent's machine") from None
    except subprocess.TimeoutExpired:
        raise WorkspaceError(f"git {args[0]} took longer than {GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise WorkspaceError(f"git {args[0]} failed: {' / '.join(message[-3:]) or done.returncode}")
    return done.stdout


def clean_diff(diff: str | None) -> str:
    """The recorded diff without the SDK's note on untracked files (comment lines)."""
    if not diff:
        return ""
    lines = diff.splitlines(keepends=True)
    while lines and lines[-1].startswith("#"):
        lines.pop()
    text = "".join(lines)
    return text if text.strip() else ""


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    def prepare(self, task: Mapping[str, Any]) -> Path:
        """The directory to run the task in (its recorded working dir inside the checkout)."""
        script = task.get("script") or {}
        repository, commit = script.get("repository"), script.get("commit")
        if not repository or not commit:
            return self._recorded_dir(script)
        run_dir = self.root / "runs" / str(task["id"])
        self.release(str(task["id"]))
        cache = self._cache(str(repository), str(commit))
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        _git(["clone", "--quiet", "--shared", "--no-checkout", str(cache), str(run_dir)])
        _git(["checkout", "--quiet", "--detach", str(commit)], cwd=run_dir)
        diff = clean_diff(script.get("diff"))
        if diff:
            try:
                _git(["apply", "--whitespace=nowarn", "-"], cwd=run_dir, stdin=diff)
            except WorkspaceError as exc:
                raise WorkspaceError(
                    f"cannot apply the recorded uncommitted changes: {exc}"
                ) from None
        return run_dir / _relative_working_dir(script)

    def release(self, task_id: str) -> None:
        """Remove a task's checkout (a no-op for tasks run in their recorded dir)."""
        run_dir = self.root / "runs" / task_id
        if run_dir.exists():
            shutil.rmtree(run_dir, ignore_errors=True)

    def _cache(self, repository: str, commit: str) -> Path:
        key = hashlib.sha256(repository.encode()).hexdigest()[:16]
        cache = self.root / "repos" / key
        if not (cache / "HEAD").exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            _git(["clone", "--quiet", "--bare", repository, str(tmp)])
            tmp.rename(cache)
        if not self._has_commit(cache, commit):
            _git(
                [
                    "fetch",
                    "--quiet",
                    repository,
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                cwd=cache,
            )
            if not self._has_commit(cache, commit):
                raise WorkspaceError(f"commit {commit} is not in repository {repository}")
        return cache

    @staticmethod
    def _has_commit(cache: Path, commit: str) -> bool:
        try:
            _git(["cat-file", "-e", f"{commit}^{{commit}}"], cwd=cache)
        except WorkspaceError:
            return False
        return True

    @staticmethod
    def _recorded_dir(script: Mapping[str, Any]) -> Path:
        working_dir = script.get("working_dir")
        if not working_dir:
            raise WorkspaceError("the task records no repository and no working_dir to run in")
        path = Path(working_dir)
        if not path.is_dir():
            raise WorkspaceError(
                f"recorded working_dir {working_dir} does not exist on this machine"
            )
        return path


def _relative_working_dir(script: Mapping[str, Any]) -> Path:
    """Where ``working_dir`` sits inside the repository (``.`` when that cannot be told)."""
    working_dir = script.get("working_dir")
    repository = script.get("repository")
    if not working_dir:
        return Path(".")
    top: str | None = None
    if repository and Path(str(repository)).is_dir():
        top = str(repository)
    elif Path(working_dir).is_dir():
        try:
            top = _git(["rev-parse", "--show-toplevel"], cwd=Path(working_dir)).strip()
        except WorkspaceError:
            top = None
    if not top:
        return Path(".")
    rel = os.path.relpath(os.path.realpath(working_dir), os.path.realpath(top))
    return Path(".") if rel.startswith("..") else Path(rel)

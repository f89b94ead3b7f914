"""Script facts: entry point, argv, working dir, interpreter, packages, git state.

:func:`quick_script` is what is known for free at ``Task.init`` (no I/O beyond ``cwd``);
:func:`full_script` adds installed packages and the git state and runs in a background
thread with a time budget (a slow ``git`` is abandoned, never waited for by the run).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from hydratrack.sdk.hydra import is_own_override

MAX_DIFF_BYTES = 2 * 1024 * 1024


def original_cwd() -> str:
    """The directory the user started in (Hydra may have changed into its output dir)."""
    hydra = sys.modules.get("hydra.core.hydra_config")
    if hydra is not None:
        try:
            from hydra.utils import get_original_cwd

            return get_original_cwd()
        except (ValueError, ImportError):
            pass
    return os.getcwd()


def entry_point(cwd: str) -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None) and spec.name != "__main__":
        return f"-m {spec.name.removesuffix('.__main__')}"
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    if not path:
        return ""
    full = os.path.abspath(os.path.join(cwd, path))
    try:
        return os.path.relpath(full, cwd)
    except ValueError:  # another drive (Windows)
        return full


def quick_script() -> dict[str, Any]:
    cwd = original_cwd()
    return {
        "entry_point": entry_point(cwd),
        "argv": [a for a in sys.argv[1:] if not is_own_override(a)],
        "working_dir": cwd,
        "binary": f"python{sys.version_info.major}.{sys.version_info.minor}",
    }


def installed_packages() -> dict[str, str]:
    """``{name: version}`` of the distributions on ``sys.path``.

    Read from the ``<name>-<version>.dist-info`` directory names (what importlib.metadata
    finds, without parsing every METADATA file: ~100x faster); other layouts (``.egg-info``,
    editable installs) from the ``Name:``/``Version:`` lines of their metadata file (the
    same fields importlib.metadata reads, without importing it and the email parser).
    """
    out: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name[: -len(".dist-info")].partition("-")
                if dist and version:
                    out.setdefault(dist, version)
                    continue
            if name.endswith((".dist-info", ".egg-info")):
                found = _name_and_version(Path(entry or ".") / name)
                if found:
                    out.setdefault(*found)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def _name_and_version(path: Path) -> tuple[str, str] | None:
    """``Name`` and ``Version`` from the header of a core-metadata file (``METADATA`` of a
    ``.dist-info``; ``PKG-INFO`` of an ``.egg-info`` directory, or the file itself)."""
    if path.is_dir():
        path = path / ("METADATA" if path.suffix == ".dist-info" else "PKG-INFO")
    fields: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break  # the header ends at the first empty line
                key, sep, value = line.partition(":")
                if sep and key in ("Name", "Version") and key not in fields:
                    fields[key] = value.strip()
    except OSError:  # a broken install must not stop capture
        return None
    if fields.get("Name") and fields.get("Version"):
        return fields["Name"], fields["Version"]
    return None


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _git(args: list[str], cwd: str, deadline: float) -> str | None:
    return _git_all([(args, cwd)], deadline)[0]


def _git_all(calls: list[tuple[list[str], str]], deadline: float) -> list[str | None]:
    """Run git commands side by side (each its own process); a command that fails, or is
    not done by ``deadline``, gives None (and is killed)."""
    import subprocess  # here, not at module level: only the capture thread needs it

    if time.monotonic() >= deadline:
        return [None] * len(calls)
    procs: list[subprocess.Popen[bytes] | None] = []
    env = _git_env()
    for args, cwd in calls:
        try:
            procs.append(
                subprocess.Popen(
                    ["git", *args],
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            )
        except OSError:
            procs.append(None)
    out: list[str | None] = []
    for proc in procs:
        if proc is None:
            out.append(None)
            continue
        try:
            # past the deadline, one that is already done is still read (a 10 ms grace)
            stdout, _ = proc.communicate(timeout=max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()  # (a child of git may hold the pipe: do not read it to the end)
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            out.append(None)
            continue
        out.append(stdout.decode("utf-8", errors="replace") if proc.returncode == 0 else None)
    return out


def in_repository(cwd: str) -> bool:
    """Whether git could find a repository from ``cwd``: a ``.git`` (directory, or file of
    a worktree/submodule) there or above, or ``GIT_DIR`` set. Saves starting git (two
    processes) in the common case of a script run outside any repository."""
    if os.environ.get("GIT_DIR"):
        return True
    path = Path(cwd).absolute()
    return any((p / ".git").exists() for p in (path, *path.parents))


def git_state(cwd: str, budget: float = 3.0) -> dict[str, Any]:
    """Repository URL (or path), branch, commit and uncommitted diff of the tree at ``cwd``."""
    if not in_repository(cwd):
        return {}
    deadline = time.monotonic() + budget
    # all at once (one round of processes: a short run's exit waits for them); untracked
    # files of the whole tree (":/"), named from its top
    both, remote_out, untracked, diff = _git_all(
        [
            (["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"], cwd),
            (["config", "--get", "remote.origin.url"], cwd),
            (["ls-files", "--others", "--exclude-standard", "--full-name", "--", ":/"], cwd),
            (["diff", "HEAD", "--no-color", "--no-ext-diff"], cwd),
        ],
        deadline,
    )
    if both is not None and len(both.split("\n")) >= 3:
        top, commit, branch = (x.strip() or None for x in both.split("\n")[:3])
    else:  # not a repository, or one without commits yet (no HEAD: no diff either)
        only = _git(["rev-parse", "--show-toplevel"], cwd, deadline)
        if only is None:
            return {}
        top, commit, branch, diff = only.strip(), None, None, None
    remote = (remote_out or "").strip()
    out: dict[str, Any] = {
        "repository": remote or top,
        "branch": None if branch == "HEAD" else branch,
        "commit": commit,
        "diff": diff[:MAX_DIFF_BYTES] if diff else None,
    }
    if untracked and untracked.strip():
        names = untracked.strip().splitlines()
        note = "# untracked files (not in the diff):\n" + "".join(f"#   {n}\n" for n in names[:200])
        out["diff"] = (out["diff"] or "") + note
    if time.monotonic() > deadline:
        out["capture_note"] = f"git state incomplete: over the {budget:g} s budget"
    return out


def full_script(base: dict[str, Any], budget: float = 3.0) -> dict[str, Any]:
    script = dict(base)
    script["requirements"] = {"pip": installed_packages(), "python": sys.version.split()[0]}
    git = git_state(script.get("working_dir") or os.getcwd(), budget)
    note = git.pop("capture_note", None)
    if note:
        from hydratrack.sdk.sender import warn

        warn(note)
    script.update(git)
    return script

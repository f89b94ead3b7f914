"""Code checkout for a task: recorded commit + recorded diff, or the recorded working dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hydratrack.agent.workspace import Workspace, WorkspaceError, clean_diff


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "value.txt").write_text("committed\n")
    git(root, "init", "-q")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return root


def test_checkout_of_commit_with_uncommitted_diff(repo: Path, tmp_path: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD").strip()
    (repo / "sub" / "value.txt").write_text("uncommitted\n")
    diff = git(repo, "diff", "HEAD") + "# untracked files (not in the diff):\n#   notes.txt\n"
    (repo / "sub" / "value.txt").write_text("something else later\n")  # the tree moves on
    ws = Workspace(tmp_path / "agent")
    task = {
        "id": "a" * 32,
        "script": {
            "repository": str(repo),
            "commit": commit,
            "diff": diff,
            "working_dir": str(repo / "sub"),
        },
    }
    cwd = ws.prepare(task)
    assert cwd == tmp_path / "agent" / "runs" / ("a" * 32) / "sub"
    assert (cwd / "value.txt").read_text() == "uncommitted\n"
    # a second task reuses the cached clone and gets a fresh checkout
    task2 = {**task, "id": "b" * 32, "script": {**task["script"], "diff": None}}
    assert (ws.prepare(task2) / "value.txt").read_text() == "committed\n"
    ws.release("a" * 32)
    assert not cwd.exists()


def test_new_commits_are_fetched(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "agent")
    first = git(repo, "rev-parse", "HEAD").strip()
    ws.prepare({"id": "c" * 32, "script": {"repository": str(repo), "commit": first}})
    (repo / "sub" / "value.txt").write_text("second\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    second = git(repo, "rev-parse", "HEAD").strip()
    cwd = ws.prepare(
        {
            "id": "d" * 32,
            "script": {"repository": str(repo), "commit": second, "working_dir": str(repo)},
        }
    )
    assert (cwd / "sub" / "value.txt").read_text() == "second\n"


def test_diff_that_does_not_apply_fails_with_the_reason(repo: Path, tmp_path: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD").strip()
    bad = "--- a/sub/value.txt\n+++ b/sub/value.txt\n@@ -1 +1 @@\n-not there\n+x\n"
    with pytest.raises(WorkspaceError, match="cannot apply the recorded uncommitted changes"):
        Workspace(tmp_path / "agent").prepare(
            {"id": "e" * 32, "script": {"repository": str(repo), "commit": commit, "diff": bad}}
        )


def test_unknown_commit_and_repository_fail(repo: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "agent")
    with pytest.raises(WorkspaceError, match="is not in repository"):
        ws.prepare({"id": "f" * 32, "script": {"repository": str(repo), "commit": "0" * 40}})
    with pytest.raises(WorkspaceError, match="git clone failed"):
        ws.prepare(
            {"id": "f" * 32, "script": {"repository": str(tmp_path / "nope"), "commit": "0" * 40}}
        )


def test_script_outside_git_runs_in_its_recorded_dir(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "agent")
    assert ws.prepare({"id": "1" * 32, "script": {"working_dir": str(tmp_path)}}) == tmp_path
    with pytest.raises(WorkspaceError, match="does not exist on this machine"):
        ws.prepare({"id": "1" * 32, "script": {"working_dir": str(tmp_path / "gone")}})
    with pytest.raises(WorkspaceError, match="no working_dir"):
        ws.prepare({"id": "1" * 32, "script": {}})


def test_clean_diff_drops_the_untracked_note_only() -> None:
    assert clean_diff("# untracked files (not in the diff):\n#   a\n") == ""
    assert (
        clean_diff("diff --git a/x b/x\n+y\n# untracked files:\n#   a\n")
        == "diff --git a/x b/x\n+y\n"
    )
    assert clean_diff(None) == ""

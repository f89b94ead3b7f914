"""Script facts from a real git repository and the real interpreter."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from hydratrack.sdk.capture import git_state, installed_packages


def git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_git_state_of_a_repository_with_changes(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "train.py").write_text("print(1)\n")
    git(tmp_path, "add", "train.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    git(tmp_path, "remote", "add", "origin", "https://example.org/repo.git")
    (tmp_path / "train.py").write_text("print(2)\n")
    (tmp_path / "notes.txt").write_text("new\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.csv").write_text("1\n")
    state = git_state(str(tmp_path / "sub"))
    assert state["commit"] == git(tmp_path, "rev-parse", "HEAD")
    assert state["branch"] == "trunk"
    assert state["repository"] == "https://example.org/repo.git"
    assert "-print(1)\n+print(2)" in state["diff"]
    assert "#   notes.txt\n#   sub/data.csv\n" in state["diff"]  # named from the top


def test_git_state_outside_a_repository_is_empty(tmp_path: Path) -> None:
    assert git_state(str(tmp_path)) == {}


def test_installed_packages_match_importlib_metadata() -> None:
    from importlib import metadata

    pkgs = installed_packages()
    assert pkgs["hydra_core"] == metadata.version("hydra-core")
    assert pkgs["omegaconf"] == metadata.version("omegaconf")
    assert len(pkgs) >= len({d.metadata["Name"].lower() for d in metadata.distributions()}) - 2


def test_git_over_its_budget_is_abandoned(tmp_path: Path) -> None:
    import time

    from hydratrack.sdk.capture import _git_all

    git(tmp_path, "init", "-q")
    t0 = time.monotonic()
    out = _git_all(
        [
            (["-c", "alias.slow=!sleep 5", "slow"], str(tmp_path)),
            (["rev-parse", "--show-toplevel"], str(tmp_path)),
        ],
        t0 + 0.5,
    )
    assert time.monotonic() - t0 < 3
    assert out[0] is None
    assert out[1] is not None and Path(out[1].strip()).resolve() == tmp_path.resolve()


def test_installed_packages_read_egg_info_and_bare_dist_info(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from importlib import metadata

    (tmp_path / "eggy.egg-info").mkdir()
    (tmp_path / "eggy.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: eggy\nVersion: 1.2.3\nSummary: x\n\nName: not-this\n"
    )
    (tmp_path / "single.egg-info").write_text("Metadata-Version: 1.0\nName: single\nVersion: 0.1\n")
    (tmp_path / "plain.dist-info").mkdir()
    (tmp_path / "plain.dist-info" / "METADATA").write_text("Name: plain\nVersion: 4.0\n")
    (tmp_path / "broken.egg-info").mkdir()  # no PKG-INFO: left out, capture goes on
    (tmp_path / "noversion.egg-info").write_text("Name: noversion\n")
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    found = installed_packages()
    assert found == {"eggy": "1.2.3", "plain": "4.0", "single": "0.1"}
    # the same answers importlib.metadata gives for these layouts
    for name, version in found.items():
        dists = list(metadata.distributions(name=name, path=[str(tmp_path)]))
        assert [d.version for d in dists] == [version]


def test_git_is_not_started_outside_a_repository(tmp_path: Path, monkeypatch: Any) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "git-was-run"
    (bin_dir / "git").write_text(f'#!/bin/sh\ntouch {marker}\nexec /usr/bin/git "$@"\n')
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("GIT_DIR", raising=False)
    outside = tmp_path / "plain" / "dir"
    outside.mkdir(parents=True)
    assert git_state(str(outside)) == {}
    assert not marker.exists()
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    assert git_state(str(repo)) == {
        "repository": str(repo.resolve()),
        "branch": None,
        "commit": None,
        "diff": None,
    }  # no commits yet
    assert marker.exists()  # the same wrapper ran git where there is a repository


def test_git_state_of_a_worktree_and_of_git_dir(tmp_path: Path, monkeypatch: Any) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q", "-b", "trunk")
    (main / "a.py").write_text("x = 1\n")
    git(main, "add", "a.py")
    git(main, "commit", "-q", "-m", "first")
    git(main, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()  # a worktree's .git is a file
    state = git_state(str(tmp_path / "wt"))
    assert state["branch"] == "side" and state["commit"] == git(main, "rev-parse", "HEAD")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_DIR", str(main / ".git"))  # no .git above cwd, but git finds it
    assert git_state(str(elsewhere))["commit"] == git(main, "rev-parse", "HEAD")


def test_git_state_of_a_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "train.py").write_text("print(1)\n")
    state = git_state(str(tmp_path))
    assert Path(state["repository"]).resolve() == tmp_path.resolve()
    assert (state["commit"], state["branch"]) == (None, None)
    assert state["diff"] == "# untracked files (not in the diff):\n#   train.py\n"

"""``hydratrack tasks …`` / ``projects list``: the real command against a real server.

Tasks come from a real Hydra app (tests/apps/groups) run twice with different overrides;
``tasks diff`` is checked against Hydra itself (``--cfg job`` of the same overrides).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from hydratrack.client import ApiClient
from tests.cli.runner import run_cli
from tests.sdk.apprun import as_shown, hydra_cfg_job, run_app
from tests.support.servers import ServerProcess, running_server

A_OVERRIDES = ["db=mysql", "seed=7"]
B_OVERRIDES = ["db=postgresql", "model.depth=34", "+extra.flag=true", "seed=7"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, so listings hold only the tasks made here."""
    yield from running_server(tmp_path_factory.mktemp("cli-server"))


@pytest.fixture
def api(server: ServerProcess) -> Iterator[ApiClient]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def runs(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two finished runs of the groups app (project "tests")."""
    cwd = tmp_path_factory.mktemp("cli-runs")
    env = server.env()
    a = run_app("groups", A_OVERRIDES, env, cwd)
    b = run_app("groups", B_OVERRIDES, env, cwd)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    return {"a": a.task_id, "b": b.task_id, "project": "tests", "cwd": cwd}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def test_projects_list(server: ServerProcess, runs: dict[str, Any]) -> None:
    data = run_cli(["projects", "list", "--json", "--limit", "1000"], server.env()).json()
    names = {p["name"]: p for p in data["items"]}
    assert names[runs["project"]]["task_count"] >= 2
    table = run_cli(["projects", "list", "--limit", "1000"], server.env()).ok().stdout
    assert runs["project"] in table and "tasks" in table


def test_list_json_and_table(server: ServerProcess, runs: dict[str, Any]) -> None:
    data = run_cli(["tasks", "list", "--project", runs["project"], "--json"], server.env()).json()
    ids = [t["id"] for t in data["items"]]
    assert ids == [runs["b"], runs["a"]]  # newest first
    assert all(t["status"] == "completed" for t in data["items"])
    table = run_cli(["tasks", "list", "-p", runs["project"]], server.env()).ok().stdout
    assert runs["a"] in table and runs["b"] in table and "completed" in table
    none = run_cli(
        ["tasks", "list", "-p", runs["project"], "--status", "queued", "--json"], server.env()
    ).json()
    assert none == {"items": [], "total": 0}


def test_list_rejects_unknown_status(server: ServerProcess) -> None:
    run = run_cli(["tasks", "list", "--status", "finished"], server.env())
    assert run.returncode == 2 and "unknown status 'finished'" in run.stderr, run.explain()


def test_show(server: ServerProcess, api: ApiClient, runs: dict[str, Any]) -> None:
    shown = run_cli(["tasks", "show", runs["b"], "--json"], server.env()).json()
    stored = api.get_task(runs["b"])
    assert shown["hyperparams"] == stored["hyperparams"]
    assert shown["configuration"] == stored["configuration"]
    text = run_cli(["tasks", "show", runs["b"]], server.env()).ok().stdout
    assert f"task {runs['b']}" in text and "completed" in text
    assert "+extra.flag" in text and "model.depth" in text and "34" in text
    assert stored["configuration"]["OmegaConf"]["value"].splitlines()[0] in text


def test_diff_matches_hydra(server: ServerProcess, runs: dict[str, Any]) -> None:
    data = run_cli(["tasks", "diff", runs["a"], runs["b"], "--json"], server.env()).json()
    # hyperparameters: the overrides as typed, nothing else differs
    got = {d["name"]: (d["a"], d["b"]) for d in data["hyperparams"]}
    assert got == {
        "db": ("mysql", "postgresql"),
        "model.depth": ("(absent)", "34"),
        "+extra.flag": ("(absent)", "true"),
    }
    assert {d["section"] for d in data["hyperparams"]} == {"Hydra"}
    # configuration: exactly the keys where Hydra's own composed configs differ, as shown
    # (secret values such as db.pass read masked on both sides)
    env = server.env()
    cfg_a = _flatten(
        yaml.safe_load(as_shown(hydra_cfg_job("groups", A_OVERRIDES, env, runs["cwd"])))
    )
    cfg_b = _flatten(
        yaml.safe_load(as_shown(hydra_cfg_job("groups", B_OVERRIDES, env, runs["cwd"])))
    )
    expected = {
        k: (cfg_a.get(k, "(absent)"), cfg_b.get(k, "(absent)"))
        for k in set(cfg_a) | set(cfg_b)
        if cfg_a.get(k, "(absent)") != cfg_b.get(k, "(absent)")
    }
    assert expected  # the runs really differ
    got_cfg = {
        d["key"]: (d["a"], d["b"]) for d in data["configuration"] if d["object"] == "OmegaConf"
    }
    assert got_cfg == expected
    table = run_cli(["tasks", "diff", runs["a"], runs["b"]], server.env()).ok().stdout
    assert "model.depth" in table and "db.driver" in table and "postgresql" in table


def test_diff_same_task(server: ServerProcess, runs: dict[str, Any]) -> None:
    run = run_cli(["tasks", "diff", runs["a"], runs["a"]], server.env()).ok()
    assert "no differences" in run.stdout
    data = run_cli(["tasks", "diff", runs["a"], runs["a"], "--json"], server.env()).json()
    assert data["hyperparams"] == [] and data["configuration"] == []


def test_diff_after_edit(server: ServerProcess, api: ApiClient, runs: dict[str, Any]) -> None:
    """An edited clone: the edited hyperparameter and configuration text show up."""
    clone = api.clone_task(runs["a"], name="edited")
    api.patch_hyperparams(clone["id"], {"Hydra": {"db": {"value": "postgresql"}}})
    text = api.get_task(runs["a"])["configuration"]["OmegaConf"]["value"]
    api.put_configuration(clone["id"], "OmegaConf", text.replace("depth: 18", "depth: 50"))
    data = run_cli(["tasks", "diff", runs["a"], clone["id"], "--json"], server.env()).json()
    assert [(d["name"], d["a"], d["b"]) for d in data["hyperparams"]] == [
        ("db", "mysql", "postgresql")
    ]
    assert [(d["key"], d["a"], d["b"]) for d in data["configuration"]] == [("model.depth", 18, 50)]


def test_clone_enqueue_dequeue_abort(
    server: ServerProcess, api: ApiClient, runs: dict[str, Any]
) -> None:
    env = server.env()
    clone = run_cli(["tasks", "clone", runs["a"], "--name", "cli clone", "--json"], env).json()
    assert (
        clone["status"] == "draft" and clone["parent"] == runs["a"] and clone["name"] == "cli clone"
    )
    assert clone["hyperparams"] == api.get_task(runs["a"])["hyperparams"]
    queue = "cli-" + secrets.token_hex(3)
    api.create_queue(queue)
    out = run_cli(["tasks", "enqueue", clone["id"], "--queue", queue], env).ok().stdout
    assert f"task {clone['id']}" in out and "queued" in out
    assert [e["task"]["id"] for e in api.get_queue(queue)["entries"]] == [clone["id"]]
    # enqueue twice: refused, one line naming both states
    run_cli(["tasks", "enqueue", clone["id"]], env).one_line_error("queued", "draft", "409")
    out = run_cli(["tasks", "dequeue", clone["id"]], env).ok().stdout
    assert "draft" in out and api.get_task(clone["id"])["status"] == "draft"
    run_cli(["tasks", "enqueue", clone["id"], "-q", queue], env).ok()
    out = run_cli(["tasks", "abort", clone["id"], "--reason", "not needed"], env).ok().stdout
    assert "stopped" in out
    assert api.get_task(clone["id"])["status"] == "stopped"
    assert api.get_queue(queue)["entries"] == []


def test_clone_human_output(server: ServerProcess, api: ApiClient, runs: dict[str, Any]) -> None:
    out = run_cli(["tasks", "clone", runs["b"]], server.env()).ok().stdout
    new_id = out.split("into draft ")[1].split()[0]
    assert api.get_task(new_id)["parent"] == runs["b"]


def test_unknown_task_and_queue(
    server: ServerProcess, api: ApiClient, runs: dict[str, Any]
) -> None:
    env = server.env()
    ghost = "0" * 32
    for args in (
        ["tasks", "show", ghost],
        ["tasks", "clone", ghost],
        ["tasks", "abort", ghost],
        ["tasks", "diff", runs["a"], ghost],
    ):
        run_cli(args, env).one_line_error(ghost, "not found")
    draft = api.clone_task(runs["a"])
    run_cli(["tasks", "enqueue", draft["id"], "--queue", "no-such-queue"], env).one_line_error(
        "no-such-queue", "not found"
    )
    assert api.get_task(draft["id"])["status"] == "draft"


def test_enqueue_completed_task_refused(server: ServerProcess, runs: dict[str, Any]) -> None:
    run_cli(["tasks", "enqueue", runs["a"]], server.env()).one_line_error("completed", "draft")


def test_server_down(server: ServerProcess, tmp_path: Path) -> None:
    from tests.support.servers import free_port

    env = server.env(HYDRATRACK_API_HOST=f"http://127.0.0.1:{free_port()}")
    for args in (["tasks", "list"], ["projects", "list", "--json"], ["keys", "create"]):
        line = run_cli(args, env).one_line_error("cannot reach hydratrack server")
        assert "hydratrack server" in line and "HYDRATRACK_API_HOST" in line


def test_bad_credentials(server: ServerProcess, tmp_path: Path) -> None:
    env = server.env(HYDRATRACK_SECRET_KEY="wrong-secret")
    line = run_cli(["tasks", "list"], env).one_line_error("refused the API credentials")
    assert "HYDRATRACK_ACCESS_KEY" in line and "wrong-secret" not in line
    no_keys = {
        k: v
        for k, v in server.env().items()
        if k not in ("HYDRATRACK_ACCESS_KEY", "HYDRATRACK_SECRET_KEY")
    }
    no_keys["HOME"] = str(tmp_path)  # no ~/.hydratrack/config.toml either
    run_cli(["projects", "list"], no_keys).one_line_error(
        "no API credentials are configured", "hydratrack server"
    )


def test_tables_show_values_literally(
    server: ServerProcess, api: ApiClient, runs: dict[str, Any]
) -> None:
    """Values that look like rich markup are printed as they are, not styled away."""
    clone = api.clone_task(runs["a"], name="[bold]markup[/bold]")
    text = api.get_task(runs["a"])["configuration"]["OmegaConf"]["value"]
    api.put_configuration(clone["id"], "OmegaConf", text + 'tag: "[red]literal[/red]"\n')
    table = run_cli(["tasks", "diff", runs["a"], clone["id"]], server.env()).ok().stdout
    assert "[red]literal[/red]" in table and "[bold]markup[/bold]" in table
    shown = run_cli(["tasks", "show", clone["id"]], server.env()).ok().stdout
    assert "tag: '[red]literal[/red]'" in shown or 'tag: "[red]literal[/red]"' in shown
    assert "[bold]markup[/bold]" in shown

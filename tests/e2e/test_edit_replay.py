"""End to end (issue #13): every edit Hydra accepts is accepted at save and runs with the
agent; every failure says why. A real server, a real agent, the real replay Hydra app."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from hydratrack.client import ApiClient, ApiError
from tests.e2e.agents import APPS, FINAL, AgentProcess, console_text, wait_status, wait_until
from tests.support.servers import ServerProcess, running_server

pytestmark = pytest.mark.slow
RECORDED = ["+a.b=1", '+msg="hello, world"', "server/site=[a,b]"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("replay-server"))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("replay") / "app"
    shutil.copytree(APPS / "replay", dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_locally(server: ServerProcess, app: Path, *overrides: str) -> tuple[dict[str, Any], int]:
    """Run the replay app with the SDK as a user would; its task once it ended, exit code."""
    done = subprocess.run(
        [sys.executable, "app.py", f"hydra.run.dir={app}/outputs/${{now:%H%M%S%f}}", *overrides],
        cwd=app,
        env=server.env(REPLAY_PROJECT="replay-local"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    task_id = done.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    api = server.client()
    try:
        task = wait_status(api, task_id, FINAL)
    finally:
        api.close()
    return task, done.returncode


@pytest.fixture(scope="module")
def source(server: ServerProcess, app: Path) -> dict[str, Any]:
    """A run made with `+` overrides (one a quoted string with a comma) and a list-valued
    nested group choice."""
    task, code = run_locally(server, app, *RECORDED)
    assert code == 0 and task["status"] == "completed", task
    return task


@pytest.fixture(scope="module")
def queue(server: ServerProcess) -> str:
    api = server.client()
    api.create_queue("replay")
    api.close()
    return "replay"


@pytest.fixture(scope="module")
def agent(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory, queue: str
) -> Iterator[AgentProcess]:
    proc = AgentProcess(server, tmp_path_factory.mktemp("replay-agent"), "--queue", queue)
    yield proc
    proc.stop()


def run_edited(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Clone ``source``, save ``changes`` to its Hydra section, enqueue it, wait for the
    agent; the finished task and the config the app printed."""
    draft = api.clone_task(source["id"], name="edited")
    api.patch_hyperparams(draft["id"], {"Hydra": changes})
    api.enqueue_task(draft["id"], queue)
    done = wait_status(api, draft["id"], FINAL, timeout=90)
    console = console_text(api, draft["id"])
    assert done["status"] == "completed", console + agent.log()
    line = next(ln for ln in console.splitlines() if ln.startswith("CFG "))
    return done, json.loads(line[4:])


def test_the_value_of_a_recorded_plus_override_is_edited_and_runs(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    assert source["hyperparams"]["Hydra"]["+a.b"]["value"] == "1"
    done, cfg = run_edited(api, source, queue, agent, {"+a.b": {"value": "2"}})
    assert cfg["a"] == {"b": 2}
    assert done["hyperparams"]["Hydra"]["+a.b"]["value"] == "2"


def test_a_quoted_string_with_a_comma_is_edited_and_runs(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    assert source["hyperparams"]["Hydra"]["+msg"]["value"] == '"hello, world"'
    done, cfg = run_edited(api, source, queue, agent, {"+msg": {"value": '"bye, world"'}})
    assert cfg["msg"] == "bye, world"
    # the agent's command, as it logged it, pastes into a shell as the command it ran
    noted = next(ln for ln in console_text(api, done["id"]).splitlines() if "running in " in ln)
    argv = shlex.split(noted.split(": ", 1)[1])
    assert '+msg="bye, world"' in argv and "server/site=[a,b]" in argv


def test_a_list_valued_group_choice_is_edited_and_runs(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    assert source["runtime"]["hydra"]["config_groups"]["server/site"] == ["a", "b"]
    _, cfg = run_edited(api, source, queue, agent, {"server/site": {"value": "[a]"}})
    assert cfg["server"] == {"site": {"a_on": True}}


def test_a_recorded_plus_key_is_removed_and_another_added(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    _, cfg = run_edited(api, source, queue, agent, {"+a.b": None, "+other": {"value": "1"}})
    assert "a" not in cfg and cfg["other"] == 1 and cfg["msg"] == "hello, world"


def test_truly_invalid_edits_are_refused_with_the_reason(api: ApiClient, source: dict) -> None:
    draft = api.clone_task(source["id"], name="refused")
    cases = [
        ({"+a.b": None, "a.b": {"value": "5"}}, "a.b", "keep the '+'"),
        ({"lr": {"value": "fast"}}, "lr", "lr is a float field (recorded value 0.1)"),
        ({"lr2": {"value": "1"}}, "lr2", "lr2 does not exist in the recorded config"),
        ({"server/site": {"value": "[a,c]"}}, "server/site", "no config 'c'"),
        ({"bad": {"value": "a==3"}}, "bad", "not a valid Hydra override"),
    ]
    for changes, name, message in cases:
        with pytest.raises(ApiError) as err:
            api.patch_hyperparams(draft["id"], {"Hydra": changes})
        assert err.value.code == "invalid_edit"
        assert [d["name"] for d in err.value.details] == [name]
        assert message in err.value.details[0]["message"]
    kept = api.get_task(draft["id"])["hyperparams"]["Hydra"]
    assert kept == source["hyperparams"]["Hydra"]  # nothing of a refused edit was stored


def test_a_job_that_raises_has_its_exception_line_as_reason_locally_and_remotely(
    api: ApiClient,
    server: ServerProcess,
    app: Path,
    source: dict,
    queue: str,
    agent: AgentProcess,
) -> None:
    local, code = run_locally(server, app, *RECORDED, "+fail=oops")
    assert code == 1
    draft = api.clone_task(source["id"], name="raises")
    api.patch_hyperparams(draft["id"], {"Hydra": {"+fail": {"value": "oops"}}})
    api.enqueue_task(draft["id"], queue)
    remote = wait_status(api, draft["id"], FINAL, timeout=90)
    for task in (local, remote):
        assert task["status"] == "failed"
        assert (task["status_message"], task["status_reason"]) == (
            "exit code 1",
            "ValueError: cannot use oops",
        )
    console = wait_until(
        lambda: (text := console_text(api, draft["id"])) and "task failed" in text and text,
        30,
        "the agent's failure note",
    )
    assert "Traceback (most recent call last)" in console  # the whole traceback is kept
    assert 'raise ValueError(f"cannot use {cfg.fail}")' in console

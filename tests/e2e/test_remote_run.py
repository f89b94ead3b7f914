"""End to end: real server, real agent processes, the real trainer Hydra app (issue #4)."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from hydratrack.client import ApiClient, ApiError
from tests.e2e.agents import (
    APPS,
    FINAL,
    AgentProcess,
    console_text,
    copy_trainer,
    run_locally,
    wait_status,
    wait_until,
)
from tests.support.servers import ServerProcess, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a short lease, so a lost agent's task fails within seconds."""
    base = tmp_path_factory.mktemp("agent-server")
    yield from running_server(base, extra_args=["--lease-seconds", "3", "--sweep-seconds", "0.5"])


@pytest.fixture(scope="module")
def source(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A task recorded by a local run of the trainer app (hard-coded number: 10)."""
    app = copy_trainer(tmp_path_factory.mktemp("local") / "trainer")
    return run_locally(server, app, "e2e-local")


@pytest.fixture
def agent(server: ServerProcess, tmp_path: Path, queue: str) -> Iterator[AgentProcess]:
    proc = AgentProcess(server, tmp_path / "agent", "--queue", queue)
    yield proc
    proc.stop()


def seen(api: ApiClient, task_id: str) -> dict[str, float]:
    scalars = api.get_scalars(task_id)["seen"]
    return {name: series["y"][-1] for name, series in scalars.items()}


def test_clone_edit_in_both_modes_and_the_agent_runs_the_edits(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    assert source["hyperparams"]["Hydra"]["_allow_omegaconf_edit_"]["value"] == "False"
    by_override = api.clone_task(source["id"], name="edited by override")
    api.patch_hyperparams(
        by_override["id"],
        {"Hydra": {"dataset.main.number": {"value": "90"}, "db": {"value": "postgresql"}}},
    )
    by_text = api.clone_task(source["id"], name="edited as text")
    api.patch_hyperparams(by_text["id"], {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}}})
    text = source["configuration"]["OmegaConf"]["value"]
    assert "number: 10" in text and "port: 3306" in text
    api.put_configuration(
        by_text["id"],
        "OmegaConf",
        text.replace("number: 10", "number: 77").replace("port: 3306", "port: 4242"),
    )
    for task in (by_override, by_text):
        api.enqueue_task(task["id"], queue)
    done_a = wait_status(api, by_override["id"], FINAL)
    done_b = wait_status(api, by_text["id"], FINAL)
    assert (done_a["status"], done_b["status"]) == ("completed", "completed"), agent.log()

    # the script itself saw the edited values (it reports them as scalars) ...
    assert seen(api, by_override["id"]) == {"number": 90.0, "derived": 90.0, "port": 5432.0}
    assert seen(api, by_text["id"]) == {"number": 77.0, "derived": 77.0, "port": 4242.0}
    # ... each new run's OmegaConf shows them, interpolations kept ...
    cfg_a = yaml.safe_load(done_a["configuration"]["OmegaConf"]["value"])
    cfg_b = yaml.safe_load(done_b["configuration"]["OmegaConf"]["value"])
    assert cfg_a["dataset"]["main"]["number"] == 90 and cfg_a["db"]["driver"] == "postgresql"
    assert cfg_b["dataset"]["main"]["number"] == 77 and cfg_b["db"]["port"] == 4242
    assert cfg_b["dataset"]["derived"] == "${dataset.main.number}"
    # ... and the parent links back; the source is untouched.
    assert done_a["parent"] == source["id"] and done_b["parent"] == source["id"]
    assert api.get_task(source["id"])["configuration"]["OmegaConf"]["value"] == text
    # the console came through the agent, once per line
    console = console_text(api, by_override["id"])
    assert console.count("SAW number=90 derived=90 db=postgresql port=5432") == 1
    assert "dataset.main.number=90" in console  # the agent noted the command it ran


def test_masked_secrets_still_reach_the_run(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    """Every read shows db.pass as ********; edits that leave the mask keep the real value,
    and the agent's run gets it (as an override, or in an edited OmegaConf text)."""
    text = source["configuration"]["OmegaConf"]["value"]
    assert "pass: '********'" in text and "pass: secret" not in text
    by_override = api.clone_task(source["id"], name="secret by override")
    api.patch_hyperparams(by_override["id"], {"Hydra": {"db.pass": {"value": "new-pw-1"}}})
    assert api.get_hyperparams(by_override["id"])["Hydra"]["db.pass"]["value"] == "********"
    by_text = api.clone_task(source["id"], name="secret kept in text")
    api.patch_hyperparams(by_text["id"], {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}}})
    api.put_configuration(by_text["id"], "OmegaConf", text.replace("port: 3306", "port: 4343"))
    for task in (by_override, by_text):
        api.enqueue_task(task["id"], queue)
    for task in (by_override, by_text):
        assert wait_status(api, task["id"], FINAL)["status"] == "completed", agent.log()
    # the app prints the config it got (its console is its own output, not masked)
    assert "pass: new-pw-1|" in console_text(api, by_override["id"])
    kept = console_text(api, by_text["id"])
    assert "pass: secret|" in kept and "port: 4343|" in kept


def test_bad_edits_are_refused_with_the_entry_named(api: ApiClient, source: dict) -> None:
    draft = api.clone_task(source["id"], name="bad edits")
    with pytest.raises(ApiError) as err:
        api.patch_hyperparams(draft["id"], {"Hydra": {"dataset.main.numbr": {"value": "3"}}})
    assert err.value.status == 422 and err.value.code == "invalid_edit"
    assert [d["name"] for d in err.value.details] == ["dataset.main.numbr"]
    assert "dataset.main.numbr" in err.value.details[0]["message"]
    with pytest.raises(ApiError) as err:
        api.patch_hyperparams(draft["id"], {"Hydra": {"dataset.main.number": {"value": "abc"}}})
    assert err.value.code == "invalid_edit" and "int" in err.value.details[0]["message"]
    with pytest.raises(ApiError) as err:
        api.put_configuration(draft["id"], "OmegaConf", "dataset:\n  main: [1\n")
    assert err.value.code == "invalid_edit" and err.value.details[0]["section"] == "configuration"
    assert "line" in err.value.details[0]["message"]
    # nothing was lost: the draft still has its recorded values
    kept = api.get_task(draft["id"])
    assert "dataset.main.numbr" not in kept["hyperparams"]["Hydra"]
    assert (
        kept["configuration"]["OmegaConf"]["value"] == source["configuration"]["OmegaConf"]["value"]
    )


def test_an_edit_that_fails_at_run_time_fails_the_task_with_its_message(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    draft = api.clone_task(source["id"], name="fails at run time")
    api.patch_hyperparams(draft["id"], {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}}})
    api.put_configuration(draft["id"], "OmegaConf", "hydra:\n  job:\n    name: x\n")
    api.enqueue_task(draft["id"], queue)
    done = wait_status(api, draft["id"], FINAL)
    assert done["status"] == "failed"
    console = console_text(api, draft["id"])
    assert "may not set 'hydra'" in console and "may not set 'hydra'" in done["status_reason"]
    assert "SAW" not in console  # never ran with the old values

    # a group option that names no file is refused on save, against the recorded groups ...
    draft = api.clone_task(source["id"], name="no such option")
    with pytest.raises(ApiError) as err:
        api.patch_hyperparams(draft["id"], {"Hydra": {"db": {"value": "nosuch"}}})
    assert "no config 'nosuch' in config group db" in err.value.details[0]["message"]
    # ... and where none were recorded it passes on save and Hydra says why at run time
    runtime = draft["runtime"]
    del runtime["hydra"]["config_groups"]
    api.update_task(draft["id"], runtime=runtime)
    api.patch_hyperparams(draft["id"], {"Hydra": {"db": {"value": "nosuch"}}})
    api.enqueue_task(draft["id"], queue)
    done = wait_status(api, draft["id"], FINAL)
    console = console_text(api, draft["id"])
    assert done["status"] == "failed" and "SAW" not in console
    assert "db/nosuch" in console  # Hydra's own message, also the reason
    assert "Could not find 'db/nosuch'" in done["status_reason"], done["status_reason"]


def test_exit_codes_decide_the_final_status_and_reason(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess, tmp_path: Path
) -> None:
    failing = api.clone_task(source["id"], name="fails on purpose")
    api.patch_hyperparams(failing["id"], {"Hydra": {"train.fail": {"value": "true"}}})
    (tmp_path / "silent.py").write_text("import sys\nsys.exit(4)\n")
    silent = api.create_task(
        {
            "name": "silent failure",
            "project": "e2e-plain",
            "script": {"entry_point": "silent.py", "argv": [], "working_dir": str(tmp_path)},
        }
    )
    for task in (failing, silent):
        api.enqueue_task(task["id"], queue)
    done = wait_status(api, failing["id"], FINAL)
    assert done["status"] == "failed"
    assert (done["status_message"], done["status_reason"]) == ("exit code 3", "failing on purpose")
    done = wait_status(api, silent["id"], FINAL)
    assert done["status"] == "failed"
    assert (done["status_message"], done["status_reason"]) == ("exit code 4", "exit code 4")


def test_venv_mode_runs_the_task_in_a_cached_venv(
    server: ServerProcess, api: ApiClient, queue: str, tmp_path: Path
) -> None:
    (tmp_path / "where.py").write_text("import sys\nprint('PREFIX', sys.prefix)\n")
    script = {
        "entry_point": "where.py",
        "argv": [],
        "working_dir": str(tmp_path),
        "requirements": {"pip": {"pip": "24.0"}},
    }
    tasks = [
        api.create_task({"name": f"venv {i}", "project": "e2e-venv", "script": script})
        for i in range(2)
    ]
    agent = AgentProcess(server, tmp_path / "venv-agent", "--queue", queue, "--venv", name="venv")
    try:
        for task in tasks:
            api.enqueue_task(task["id"], queue)
        for task in tasks:
            assert wait_status(api, task["id"], FINAL, timeout=120)["status"] == "completed"
    finally:
        agent.stop()
    prefixes = {console_text(api, t["id"]).split("PREFIX ")[1].split()[0] for t in tasks}
    assert len(prefixes) == 1  # built once, reused
    assert prefixes.pop().startswith(str(tmp_path / "venv-agent" / "venvs"))


def test_abort_of_a_running_task_stops_it(
    api: ApiClient, source: dict, queue: str, agent: AgentProcess
) -> None:
    draft = api.clone_task(source["id"], name="to abort")
    api.patch_hyperparams(draft["id"], {"Hydra": {"train.sleep": {"value": "60"}}})
    api.enqueue_task(draft["id"], queue)
    wait_status(api, draft["id"], {"in_progress"})
    wait_until(lambda: "working" in console_text(api, draft["id"]), 30, "the task to print")
    api.abort_task(draft["id"], reason="test abort")
    done = wait_status(api, draft["id"], FINAL, timeout=20)
    assert done["status"] == "stopped"
    assert "SIGTERM" in console_text(api, draft["id"])
    # the agent goes on serving its queue
    again = api.clone_task(source["id"], name="after abort")
    api.enqueue_task(again["id"], queue)
    assert wait_status(api, again["id"], FINAL)["status"] == "completed"


def test_agent_killed_mid_task_fails_the_task_after_the_lease(
    server: ServerProcess, api: ApiClient, queue: str, tmp_path: Path
) -> None:
    # a plain script (no Hydra, no SDK) that sleeps without a word: a child that prints
    # would die of a broken pipe anyway; this one must be ended because its agent died
    (tmp_path / "sleeper.py").write_text("import time\ntime.sleep(60)\n")
    draft = api.create_task(
        {
            "name": "agent dies",
            "project": "e2e-plain",
            "script": {"entry_point": "sleeper.py", "argv": [], "working_dir": str(tmp_path)},
        }
    )
    agent = AgentProcess(server, tmp_path / "doomed", "--queue", queue, name="doomed")
    try:
        api.enqueue_task(draft["id"], queue)
        wait_status(api, draft["id"], {"in_progress"})
        child = wait_until(agent.child_pids, 20, "the child process to start")[0]
        agent.proc.send_signal(signal.SIGKILL)
        agent.proc.wait(10)
        done = wait_status(api, draft["id"], FINAL, timeout=20)
        assert done["status"] == "failed"
        assert "doomed" in done["status_reason"] and "heartbeat" in done["status_reason"]
        # the task's process did not outlive its agent (it gets SIGTERM when the agent dies)
        wait_until(lambda: _ended(child), 10, "the child to end")
    finally:
        agent.stop()


def _ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_two_agents_on_one_queue_never_run_the_same_task(
    server: ServerProcess, api: ApiClient, source: dict, queue: str, tmp_path: Path
) -> None:
    tasks = [api.clone_task(source["id"], name=f"shared {i}") for i in range(6)]
    agents = [
        AgentProcess(server, tmp_path / f"a{i}", "--queue", queue, name=f"pair{i}")
        for i in range(2)
    ]
    try:
        for task in tasks:
            api.enqueue_task(task["id"], queue)
        for task in tasks:
            assert wait_status(api, task["id"], FINAL, timeout=90)["status"] == "completed"
    finally:
        for agent in agents:
            agent.stop()
    claims = agents[0].claimed() + agents[1].claimed()
    assert sorted(claims) == sorted(t["id"] for t in tasks)  # each task claimed exactly once
    for task in tasks:
        assert console_text(api, task["id"]).count("SAW number=10") == 1


def git(cwd: Path, *args: str) -> str:
    base = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    return subprocess.run(
        [*base, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_task_in_a_git_repo_runs_its_uncommitted_changes(
    server: ServerProcess, api: ApiClient, queue: str, agent: AgentProcess, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    app = copy_trainer(repo / "trainer")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "trainer")
    config = app / "conf" / "config.yaml"
    config.write_text(config.read_text().replace("number: 10", "number: 33"))  # uncommitted
    project = "e2e-git-" + uuid.uuid4().hex[:6]
    recorded = run_locally(server, app, project)
    assert recorded["script"]["commit"] and "number: 33" in recorded["script"]["diff"]
    git(repo, "checkout", "--", ".")  # the working tree moves on; the record must not
    config.write_text(config.read_text().replace("number: 10", "number: 44"))
    clone = api.clone_task(recorded["id"], name="from git")
    api.enqueue_task(clone["id"], queue)
    done = wait_status(api, clone["id"], FINAL)
    assert done["status"] == "completed", console_text(api, clone["id"])
    assert seen(api, clone["id"])["number"] == 33.0
    assert "/runs/" in console_text(api, clone["id"])  # ran from the agent's checkout


def test_rerun_runs_a_task_here_as_a_new_child(
    server: ServerProcess, api: ApiClient, source: dict, tmp_path: Path
) -> None:
    draft = api.clone_task(source["id"], name="to rerun")
    api.patch_hyperparams(draft["id"], {"Hydra": {"dataset.main.number": {"value": "12"}}})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hydratrack",
            "rerun",
            draft["id"],
            "--name",
            "rerun here",
            "--workdir",
            str(tmp_path / "rerun"),
        ],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "SAW number=12" in done.stdout  # console shown in the terminal
    new = api.list_tasks(parent=draft["id"])["items"]
    assert [t["name"] for t in new] == ["rerun here"] and new[0]["status"] == "completed"
    assert seen(api, new[0]["id"])["number"] == 12.0


def test_structured_config_edit_keeps_types_and_a_wrong_type_fails_loudly(
    server: ServerProcess, api: ApiClient, queue: str, agent: AgentProcess, tmp_path: Path
) -> None:
    import shutil

    app = tmp_path / "typed"
    shutil.copytree(APPS / "typed", app, ignore=shutil.ignore_patterns("__pycache__"))
    project = "e2e-typed-" + uuid.uuid4().hex[:6]
    done = subprocess.run(
        [sys.executable, "app.py", f"hydra.run.dir={app}/outputs/local"],
        cwd=app,
        env=server.env(TRAINER_PROJECT=project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    recorded = wait_until(
        lambda: [t for t in api.list_tasks(project=project)["items"] if t["status"] == "completed"],
        30,
        "the typed run",
    )[0]
    text = api.get_task(recorded["id"])["configuration"]["OmegaConf"]["value"]
    assert "steps: 10" in text
    good, bad = (api.clone_task(recorded["id"], name=n) for n in ("typed ok", "typed bad"))
    for draft, new in (
        (good, text.replace("steps: 10", "steps: 3")),
        (bad, text.replace("steps: 10", "steps: abc")),
    ):
        api.patch_hyperparams(draft["id"], {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}}})
        api.put_configuration(draft["id"], "OmegaConf", new)
        api.enqueue_task(draft["id"], queue)
    ok = wait_status(api, good["id"], FINAL)
    assert ok["status"] == "completed", console_text(api, good["id"])
    assert "SAW lr=0.1 steps=3 total=3" in console_text(api, good["id"])
    assert "TYPE optim=Optim struct=True" in console_text(api, good["id"])
    failed = wait_status(api, bad["id"], FINAL)
    console = console_text(api, bad["id"])
    assert failed["status"] == "failed"
    assert "optim.steps" in console and "abc" in console and "SAW" not in console
    assert "optim.steps" in failed["status_reason"]


def test_a_job_of_a_multirun_is_rerun_as_one_job_with_its_edits(
    server: ServerProcess, api: ApiClient, queue: str, agent: AgentProcess, tmp_path: Path
) -> None:
    app = copy_trainer(tmp_path / "trainer")
    project = "e2e-multi-" + uuid.uuid4().hex[:6]
    done = subprocess.run(
        [
            sys.executable,
            "app.py",
            "-m",
            f"hydra.sweep.dir={app}/multirun",
            "dataset.main.number=1,2",
        ],
        cwd=app,
        env=server.env(TRAINER_PROJECT=project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    jobs = wait_until(
        lambda: (
            lambda items: (
                items
                if len(items) == 2 and all(t["status"] == "completed" for t in items)
                else None
            )
        )(api.list_tasks(project=project)["items"]),
        30,
        "both multirun jobs",
    )
    second = next(t for t in jobs if seen(api, t["id"])["number"] == 2.0)
    clone = api.clone_task(second["id"], name="one job, edited")
    api.patch_hyperparams(clone["id"], {"Hydra": {"db": {"value": "postgresql"}}})
    api.enqueue_task(clone["id"], queue)
    assert wait_status(api, clone["id"], FINAL)["status"] == "completed", console_text(
        api, clone["id"]
    )
    assert seen(api, clone["id"]) == {"number": 2.0, "derived": 2.0, "port": 5432.0}
    assert console_text(api, clone["id"]).count("SAW number=") == 1  # one job, not a sweep

"""Reading and steering tasks from code (Task.get_task, clone, set_parameter, enqueue...),
and the remote-run path the agent uses (HYDRATRACK_TASK_ID)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydratrack.client import ApiClient, ApiError
from tests.sdk.apprun import as_shown, hydra_cfg_job, run_app
from tests.support.servers import ServerProcess


@pytest.fixture
def sdk_env(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the in-process SDK (reads/steering) at the test server."""
    import hydratrack.sdk.task as task_mod

    for key, value in server.env().items():
        if key.startswith("HYDRATRACK_") or key == "HOME":
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(task_mod, "_client", None)
    yield
    if task_mod._client is not None:
        task_mod._client.close()
    monkeypatch.setattr(task_mod, "_client", None)


@pytest.fixture(scope="module")
def recorded(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    cwd = tmp_path_factory.mktemp("recorded")
    run = run_app("groups", ["db=postgresql", "+experiment=fast"], server.env(), cwd)
    assert run.returncode == 0, run.stderr
    return run.task_id


def test_read_api(recorded: str, sdk_env: None) -> None:
    from hydratrack import Task

    t = Task.get_task(task_id=recorded)
    assert t.id == recorded and t.name == "groups"
    assert t.get_status() == "completed"
    params = t.get_parameters()
    assert params["Hydra/db"] == "postgresql"
    assert params["Hydra/+experiment"] == "fast"
    assert params["Hydra/_allow_omegaconf_edit_"] == "False"
    text = t.get_configuration_object("OmegaConf")
    assert text is not None and "driver: postgresql" in text
    assert t.get_configuration_object("nope") is None
    scalars = t.get_reported_scalars()
    assert scalars["loss"]["train"]["x"] == [0, 1, 2, 3, 4]
    console = t.get_reported_console_output()
    assert any("épsilon" in chunk for chunk in console)
    by_name = Task.get_task(project_name="tests", task_name="groups")
    assert by_name.name == "groups"
    assert recorded in {x.id for x in Task.get_tasks(project_name="tests")}
    with pytest.raises(ValueError, match="no task named 'no-such-task'"):
        Task.get_task(project_name="tests", task_name="no-such-task")


def test_clone_edit_enqueue_dequeue_abort(recorded: str, sdk_env: None) -> None:
    from hydratrack import Task

    src = Task.get_task(task_id=recorded)
    c = Task.clone(source_task=src, name="try 2")
    assert c.id != src.id and c.name == "try 2"
    assert c.get_status() == "draft"
    assert c.data["parent"] == src.id
    c.set_parameter("Hydra/model.depth", 99)
    assert c.get_parameters()["Hydra/model.depth"] == "99"
    c.set_configuration_object("OmegaConf", "seed: 3\n")
    assert c.get_configuration_object("OmegaConf") == "seed: 3\n"
    with pytest.raises(ValueError, match="Section/name"):
        c.set_parameter("nosection", 1)
    with pytest.raises(ApiError) as err:
        c.set_parameter("Hydra/no.such.key", 1)
    assert err.value.status == 422
    Task.enqueue(c, queue_name="default")
    assert c.get_status() == "queued"
    Task.dequeue(c)
    assert c.get_status() == "draft"
    Task.enqueue(c.id)
    c.abort(reason="test")
    assert c.get_status() == "stopped"
    with pytest.raises(ApiError) as err2:
        c.set_parameter("Hydra/db", "mysql")
    assert err2.value.status == 409


def test_remote_run_attaches_and_keeps_edit_flag(
    server: ServerProcess, api: ApiClient, recorded: str, tmp_path: Path
) -> None:
    clone = api.clone_task(recorded, "remote")
    api.patch_hyperparams(
        clone["id"],
        {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}, "db": {"value": "mysql"}}},
    )
    api.set_status(clone["id"], "in_progress")  # what the agent's claim does
    before = api.list_tasks(limit=1000)["total"]
    overrides = ["db=mysql", "+experiment=fast", "seed=11"]
    # how the agent injects its edit callback: never part of what is recorded
    callback = "+hydra.callbacks.hydratrack_edit._target_=hydra.experimental.callback.Callback"
    env = server.env(HYDRATRACK_TASK_ID=clone["id"])
    run = run_app("groups", [*overrides, callback, "hydra.job.name=remote"], env, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.task_id == clone["id"]
    assert api.list_tasks(limit=1000)["total"] == before  # no new task
    task = api.get_task(clone["id"])
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(
        hydra_cfg_job("groups", overrides, env, tmp_path)
    )
    section = task["hyperparams"]["Hydra"]
    assert section["_allow_omegaconf_edit_"]["value"] == "True"  # kept, not reset
    assert {k: v["value"] for k, v in section.items() if k != "_allow_omegaconf_edit_"} == {
        "db": "mysql",
        "+experiment": "fast",
        "seed": "11",
    }
    assert task["runtime"]["hydra"]["overrides"]["task"] == overrides
    assert "hydra.job.name=remote" in task["runtime"]["hydra"]["overrides"]["hydra"]
    assert not any("hydratrack" in o for o in task["runtime"]["hydra"]["overrides"]["hydra"])
    assert "hydratrack" not in task["runtime"]["hydra"]["command_line"]
    assert task["script"]["argv"] == [*overrides, "hydra.job.name=remote"]
    assert task["status"] == "in_progress"  # the runner (agent) reports the end
    assert task["script"]["working_dir"] == str(tmp_path)
    assert api.get_scalars(clone["id"])["loss"]["train"]["x"] == [0, 1, 2, 3, 4]


def test_console_by_agent_sends_no_console(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    run = run_app(
        "groups", ["db=postgresql"], server.env(HYDRATRACK_CONSOLE_BY_AGENT="1"), tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "épsilon" in run.stdout
    assert api.get_console(run.task_id)["items"] == []
    assert api.get_scalars(run.task_id)["loss"]["train"]["x"] == [0, 1, 2, 3, 4]


def test_plain_script_connect_and_artifacts(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    script = tmp_path / "plain.py"
    data = tmp_path / "weights.bin"
    data.write_bytes(b"\x00\x01weights")
    script.write_text(
        "import argparse, dataclasses\n"
        "from hydratrack import Task\n"
        "@dataclasses.dataclass\n"
        "class Opt:\n"
        "    lr: float = 0.1\n"
        "    name: str = 'adam'\n"
        "t = Task.init(project_name='tests', task_name='plain')\n"
        "print(f'HYDRATRACK_TASK={t.id}')\n"
        "ns = argparse.Namespace(epochs=3, tag='x')\n"
        "assert t.connect(ns, name='Args') is ns\n"
        "t.connect(Opt(), name='Opt')\n"
        "t.connect({'a': {'b': 1}}, name='General')\n"
        "t.connect_configuration({'model': {'depth': 3}}, name='Model')\n"
        f"t.upload_artifact('weights', {str(data)!r})\n"
        "t.upload_artifact('stats', {'acc': 0.9})\n"
        "try:\n"
        "    t.connect({}, name='Hydra')\n"
        "except ValueError as e:\n"
        "    print('refused:', e)\n"
    )
    proc = subprocess.run(
        check=False,
        args=[sys.executable, str(script)],
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused: section 'Hydra' is reserved" in proc.stdout
    tid = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    task = api.get_task(tid)
    assert task["status"] == "completed"
    hp = task["hyperparams"]
    assert hp["Args"]["epochs"] == {"value": "3", "type": "int", "description": ""}
    assert hp["Opt"]["lr"]["value"] == "0.1" and hp["General"]["a.b"]["value"] == "1"
    assert task["configuration"]["Model"]["value"] == "model:\n  depth: 3\n"
    assert api.download_artifact(tid, "weights") == b"\x00\x01weights"
    assert api.download_artifact(tid, "stats").startswith(b"{")
    assert task["script"]["entry_point"] == "plain.py"


def test_uncaught_exception_in_plain_script(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "from hydratrack import Task\n"
        "t = Task.init(project_name='tests', task_name='crash')\n"
        "print(f'HYDRATRACK_TASK={t.id}')\n"
        "raise ValueError('bad value 42')\n"
    )
    proc = subprocess.run(
        check=False,
        args=[sys.executable, str(script)],
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    tid = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    task = api.get_task(tid)
    assert task["status"] == "failed"
    assert (task["status_message"], task["status_reason"]) == (
        "exit code 1",
        "ValueError: bad value 42",
    )
    console = "".join(i["text"] for i in api.get_console(tid)["items"])
    assert "Traceback (most recent call last)" in console and "ValueError: bad value 42" in console


@pytest.mark.parametrize(
    ("call", "status", "message", "reason"),
    [
        ("exit(4)", "failed", "exit code 4", "exit code 4"),
        ("quit('no data found')", "failed", "exit code 1", "no data found"),
        ("exit(0)", "completed", "", ""),
    ],
)
def test_builtin_exit_counts_like_sys_exit(
    server: ServerProcess,
    api: ApiClient,
    tmp_path: Path,
    call: str,
    status: str,
    message: str,
    reason: str,
) -> None:
    """The site module's ``exit``/``quit``, common in scripts, count like ``sys.exit``."""
    script = tmp_path / "quits.py"
    script.write_text(
        "from hydratrack import Task\n"
        "t = Task.init(project_name='tests', task_name='quits')\n"
        "print(f'HYDRATRACK_TASK={t.id}')\n"
        f"{call}\n"
    )
    proc = subprocess.run(
        check=False,
        args=[sys.executable, str(script)],
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    task = api.get_task(proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0])
    assert (task["status"], task["status_message"], task["status_reason"]) == (
        status,
        message,
        reason,
    ), proc.stderr


def test_sigterm_stops_the_task_and_keeps_its_reports(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    import signal
    import time

    script = tmp_path / "long.py"
    script.write_text(
        "import time\n"
        "from hydratrack import Task\n"
        "t = Task.init(project_name='tests', task_name='long')\n"
        "print(f'HYDRATRACK_TASK={t.id}', flush=True)\n"
        "log = t.get_logger()\n"
        "for i in range(100000):\n"
        "    log.report_scalar('loss', 'train', value=1.0, iteration=i)\n"
        "    if i == 3:\n"
        "        print('ready', flush=True)\n"
        "    time.sleep(0.01)\n"
    )
    with subprocess.Popen(
        [sys.executable, str(script)],
        env=server.env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        tid = proc.stdout.readline().strip().split("=", 1)[1]
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 128 + signal.SIGTERM, err
    task = api.get_task(tid)
    assert task["status"] == "stopped"
    assert task["status_message"] == "terminated by SIGTERM"
    xs = api.get_scalars(tid)["loss"]["train"]["x"]
    assert xs[:4] == [0, 1, 2, 3] and len(xs) >= 10
    console = "".join(i["text"] for i in api.get_console(tid)["items"])
    assert "ready\n" in console


def test_compose_api_is_named_in_a_warning(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    conf = Path(__file__).resolve().parents[1] / "apps" / "groups" / "conf"
    script = tmp_path / "compose.py"
    script.write_text(
        "import time\n"
        "from hydra import compose, initialize_config_dir\n"
        "from hydratrack import Task\n"
        "t = Task.init(project_name='tests', task_name='compose')\n"
        "print(f'HYDRATRACK_TASK={t.id}')\n"
        "time.sleep(0.1)\n"
        f"with initialize_config_dir(version_base=None, config_dir={str(conf)!r}):\n"
        "    cfg = compose('config', overrides=['db=postgresql'])\n"
        "    time.sleep(0.1)\n"
        "print(cfg.db.driver)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("hydratrack: warning")]
    assert len(warnings) == 1 and "Compose API is not captured" in warnings[0]
    tid = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    task = api.get_task(tid)
    assert task["status"] == "completed" and "OmegaConf" not in task["configuration"]


def _run_script(
    server: ServerProcess, tmp_path: Path, code: str
) -> subprocess.CompletedProcess[str]:
    """A plain Python script (no Hydra) run against the test server."""
    script = tmp_path / "script.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)],
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_nan_and_infinite_scalars_read_back_as_floats(
    server: ServerProcess, tmp_path: Path, sdk_env: None
) -> None:
    """A NaN loss is real data: reported, stored and read back through the SDK as a float."""
    import math

    from hydratrack import Task

    proc = _run_script(
        server,
        tmp_path,
        "from hydratrack import Task\n"
        "t = Task.init(project_name='tests', task_name='nan')\n"
        "print(f'HYDRATRACK_TASK={t.id}')\n"
        "log = t.get_logger()\n"
        "for i, v in enumerate([1.0, float('nan'), float('inf'), -float('inf'), 2.0]):\n"
        "    log.report_scalar('loss', 'train', value=v, iteration=i)\n",
    )
    assert proc.returncode == 0, proc.stderr
    tid = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    y = Task.get_task(task_id=tid).get_reported_scalars()["loss"]["train"]["y"]
    assert y[0] == 1.0 and math.isnan(y[1]) and y[2] == math.inf and y[3] == -math.inf
    assert y[4] == 2.0


@pytest.mark.parametrize(
    ("keywords", "returncode", "expected"),
    [
        # a misspelled keyword is an error, not silently dropped
        ("outptu_uri='s3://b'", 1, "unexpected keyword argument(s): outptu_uri"),
        # ClearML's own options are accepted and said to do nothing yet
        ("output_uri='s3://b', auto_connect_frameworks=False", 0, "has no effect yet"),
    ],
)
def test_task_init_keywords_are_checked(
    server: ServerProcess, tmp_path: Path, keywords: str, returncode: int, expected: str
) -> None:
    proc = _run_script(
        server,
        tmp_path,
        "from hydratrack import Task\n"
        f"t = Task.init(project_name='tests', task_name='kw', {keywords})\n",
    )
    assert proc.returncode == returncode, proc.stderr
    assert expected in proc.stderr
    if returncode == 0:
        assert "Task.init(auto_connect_frameworks, output_uri=...)" in proc.stderr

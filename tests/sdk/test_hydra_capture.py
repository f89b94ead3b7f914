"""Real Hydra apps against a real server: the stored config equals Hydra's own ``--cfg job``,
the Hydra section equals the overrides as typed, Hydra's own overrides go to the runtime."""

from __future__ import annotations

import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hydratrack.client import ApiClient
from tests.sdk.apprun import as_shown, hydra_cfg_job, hydra_pythons, hydra_version, run_app
from tests.support.servers import ServerProcess

CASES = [
    ("groups", []),
    ("groups", ["db=postgresql"]),
    ("groups", ["+experiment=fast"]),
    ("groups", ["+extra.flag=1", "+extra.name=x"]),
    ("groups", ["++model.depth=50", "++brand.new=yes"]),
    ("groups", ["~model.dropout"]),
    ("groups", ["~model.dropout=0.1", "~db"]),
    ("groups", ["model.layers=[1,2,3]", "seed=9"]),
    ("groups", ['name="héllo, wörld"', "quoted='x=y'", "+uni='日本語'"]),
    ("groups", ["hydra.job.name=custom", "db=postgresql", "hydra.verbose=true"]),
    ("groups", ["hydra.job.chdir=True", "seed=2", "hydra/job_logging=disabled"]),
    ("groups", ["db=postgresql", "db.port=6543", "+experiment=fast", "~model.layers"]),
    ("groups", ["+db@backup=postgresql", "run_name=${seed}_x", "+when=${oc.env:HOME}"]),
    ("groups", ["model.layers=[]", "+tags={a:1,b:[x,y]}", "seed=-3", "+empty=''"]),
    ("structured", []),
    ("structured", ["mode=FAST", "db.timeout=2.5", "tags=[x,y,z]", "label=null"]),
    ("structured", ["db.port=1234", "ratio=0.25", "+extra=1"]),
]


def typed_key(override: str) -> str:
    return override.split("=", 1)[0]


def typed_value(override: str) -> str:
    return override.split("=", 1)[1] if "=" in override else ""


PYTHONS = hydra_pythons()


@pytest.fixture(scope="module", params=PYTHONS, ids=[f"py{i}" for i in range(len(PYTHONS))])
def python(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("app", "overrides"), CASES, ids=[f"{a}:{' '.join(o) or 'none'}" for a, o in CASES]
)
def test_capture_matches_hydra(
    app: str,
    overrides: list[str],
    server: ServerProcess,
    api: ApiClient,
    tmp_path: Path,
    python: str,
) -> None:
    env = server.env()
    run = run_app(app, overrides, env, tmp_path, python=python)
    assert run.returncode == 0, run.stderr
    assert run.warnings() == []
    task = api.get_task(run.task_id)
    assert task["status"] == "completed"

    expected = hydra_cfg_job(app, overrides, env, tmp_path, python=python)
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(expected)
    assert task["configuration"]["OmegaConf"]["type"] == "OmegaConf"

    task_ovs = [o for o in overrides if not typed_key(o).lstrip("+~").startswith("hydra")]
    hydra_ovs = [o for o in overrides if o not in task_ovs]
    section = task["hyperparams"]["Hydra"]
    assert {k: v["value"] for k, v in section.items() if k != "_allow_omegaconf_edit_"} == {
        typed_key(o): typed_value(o) for o in task_ovs
    }
    assert section["_allow_omegaconf_edit_"]["value"] == "False"
    assert section["_allow_omegaconf_edit_"]["description"]

    facts = task["runtime"]["hydra"]
    assert facts["overrides"]["task"] == task_ovs
    for o in hydra_ovs:
        assert o in facts["overrides"]["hydra"]
    assert facts["config_name"] == "config"
    assert facts["version"] == hydra_version(python)
    assert Path(facts["output_dir"]).is_dir()
    assert facts["mode"] == "RUN"
    assert shlex.split(facts["command_line"])[1:] == overrides
    if app == "groups":
        db = (
            None
            if "~db" in overrides
            else "postgresql"
            if "db=postgresql" in overrides
            else "mysql"
        )
        assert facts["choices"].get("db") == db
        assert facts["config_path"] == str(Path(__file__).parents[1] / "apps" / "groups" / "conf")
    script = task["script"]
    assert script["working_dir"] == str(tmp_path)
    assert script["argv"] == overrides


def test_scalars_and_console(server: ServerProcess, api: ApiClient, tmp_path: Path) -> None:
    run = run_app("groups", ["db=postgresql"], server.env(), tmp_path)
    assert run.returncode == 0, run.stderr
    tid = run.task_id
    scalars = api.get_scalars(tid)
    assert scalars["loss"]["train"]["x"] == [0, 1, 2, 3, 4]
    assert scalars["loss"]["train"]["y"] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    norm = scalars["grad"]["norm"]  # NaN is kept (a NaN loss is real data)
    assert norm["x"] == [0, 1] and math.isnan(norm["y"][0]) and norm["y"][1] == 2.0
    text = "".join(i["text"] for i in api.get_console(tid)["items"])
    assert "db=postgresql épsilon ✓\n" in text


def test_output_subdir_null_composes_again(
    server: ServerProcess, api: ApiClient, tmp_path: Path, python: str
) -> None:
    overrides = ["db=postgresql", "+experiment=fast", "hydra.output_subdir=null"]
    run = run_app("groups", overrides, server.env(), tmp_path, python=python)
    assert run.returncode == 0, run.stderr
    task = api.get_task(run.task_id)
    assert not list(tmp_path.rglob(".hydra"))
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(
        hydra_cfg_job("groups", overrides, server.env(), tmp_path, python=python)
    )


def test_init_before_hydra_main(
    server: ServerProcess, api: ApiClient, tmp_path: Path, python: str
) -> None:
    overrides = ["db=postgresql", "+extra=1"]
    run = run_app("early", overrides, server.env(), tmp_path, python=python)
    assert run.returncode == 0, run.stderr
    assert run.warnings() == []
    task = api.get_task(run.task_id)
    assert task["status"] == "completed"
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(
        hydra_cfg_job("early", overrides, server.env(), tmp_path, python=python)
    )
    section = task["hyperparams"]["Hydra"]
    assert section["db"]["value"] == "postgresql" and section["+extra"]["value"] == "1"
    assert task["runtime"]["hydra"]["choices"]["db"] == "postgresql"


def test_init_before_hydra_main_info_flags_make_no_task(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    before = api.list_tasks(project="tests", name="early", limit=1000)["total"]
    out = hydra_cfg_job("early", ["db=postgresql"], server.env(), tmp_path)
    assert out.startswith("db:\n")
    assert api.list_tasks(project="tests", name="early", limit=1000)["total"] == before


def test_exception_marks_failed_with_traceback(
    server: ServerProcess, api: ApiClient, tmp_path: Path, python: str
) -> None:
    run = run_app("groups", ["crash=true"], server.env(), tmp_path, python=python)
    assert run.returncode == 1
    task = api.get_task(run.task_id)
    assert task["status"] == "failed"
    # the exception line, not Hydra's HYDRA_FULL_ERROR hint (issue #13)
    assert task["status_message"] == "exit code 1"
    assert task["status_reason"] == "RuntimeError: boom: crash requested for mysql"
    console = "".join(i["text"] for i in api.get_console(run.task_id)["items"])
    assert "Traceback" in console or "Error executing job" in console
    assert "RuntimeError: boom: crash requested for mysql" in console


def test_multirun_one_task_per_job(server: ServerProcess, api: ApiClient, tmp_path: Path) -> None:
    run = run_app("groups", ["-m", "db=mysql,postgresql", "seed=3"], server.env(), tmp_path)
    assert run.returncode == 0, run.stderr
    ids = [
        line.split("=", 1)[1]
        for line in run.stdout.splitlines()
        if line.startswith("HYDRATRACK_TASK=")
    ]
    assert len(ids) == 2 and len(set(ids)) == 2
    for num, (tid, db) in enumerate(zip(ids, ["mysql", "postgresql"], strict=True)):
        task = api.get_task(tid)
        assert task["status"] == "completed"
        facts = task["runtime"]["hydra"]
        assert facts["mode"] == "MULTIRUN" and facts["job_num"] == num
        assert facts["overrides"]["task"] == [f"db={db}", "seed=3"]
        assert {k: v["value"] for k, v in task["hyperparams"]["Hydra"].items()} == {
            "db": db,
            "seed": "3",
            "_allow_omegaconf_edit_": "False",
        }
        assert task["configuration"]["OmegaConf"]["value"] == as_shown(
            hydra_cfg_job("groups", [f"db={db}", "seed=3"], server.env(), tmp_path)
        )
        assert api.get_scalars(tid)["loss"]["train"]["x"] == [0, 1, 2, 3, 4]


def test_multirun_consoles_hold_only_their_own_jobs_lines(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    """What Hydra prints between jobs (``#1 : lr=0.2``) is not in the previous job's
    console; each job's own prints and log lines are in its console (issue #13)."""
    app = Path(__file__).resolve().parents[1] / "e2e" / "apps" / "replay" / "app.py"
    lrs = ["0.1", "0.2", "0.3"]
    run = subprocess.run(
        [sys.executable, str(app), "-m", f"lr={','.join(lrs)}"],
        cwd=tmp_path,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "#1 : lr=0.2" in run.stdout  # Hydra's announcement of job 1, on the terminal
    ids = re.findall(r"HYDRATRACK_TASK=([0-9a-f]{32})", run.stdout)
    assert len(ids) == 3
    for num, (tid, lr) in enumerate(zip(ids, lrs, strict=True)):
        assert api.get_task(tid)["status"] == "completed"
        console = "".join(i["text"] for i in api.get_console(tid, limit=1000)["items"])
        assert f'"lr": {lr}' in console and f"job log lr={lr}" in console, console
        others = [other for other in lrs if other != lr]
        for other in others:
            assert f"lr={other}" not in console and f'"lr": {other}' not in console, console
        assert not re.search(r"#\d+ : lr=", console.replace(f"#{num} : lr={lr}", "")), console


def test_init_long_before_hydra_main_creates_then_adds_capture(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    from tests.sdk.apprun import app_path

    overrides = ["db=postgresql", "+extra=1"]
    with subprocess.Popen(
        [sys.executable, str(app_path("early_slow")), *overrides],
        env=server.env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        tid = proc.stdout.readline().strip().split("=", 1)[1]
        deadline = time.monotonic() + 4.0
        seen = None
        while seen is None and time.monotonic() < deadline:
            try:
                seen = api.get_task(tid)
            except Exception:  # noqa: BLE001 - not created yet
                time.sleep(0.1)
        assert seen is not None and seen["status"] == "in_progress"  # live before the job
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    task = api.get_task(tid)
    assert task["status"] == "completed"
    # the oracle runs without the app's sleep being relevant: same config, same overrides
    expected = subprocess.run(
        [sys.executable, str(app_path("early")), "--cfg", "job", *overrides],
        env=server.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(expected)
    assert task["hyperparams"]["Hydra"]["+extra"]["value"] == "1"
    assert task["runtime"]["hydra"]["choices"]["db"] == "postgresql"

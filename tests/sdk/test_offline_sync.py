"""Offline runs, a server that is down, bad credentials: the run goes on, data is spooled,
``hydratrack sync`` uploads it once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from hydratrack.client import ApiClient, ApiError
from tests.sdk.apprun import as_shown, hydra_cfg_job, run_app
from tests.support.servers import ServerProcess, free_port


def spool_dir(server: ServerProcess) -> Path:
    return server.home / ".hydratrack" / "spool"


def sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        check=False,
        args=[sys.executable, "-m", "hydratrack", "sync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_not_on_server(api: ApiClient, task_id: str) -> None:
    try:
        api.get_task(task_id)
    except ApiError as exc:
        assert exc.status == 404
    else:  # pragma: no cover
        raise AssertionError(f"task {task_id} should not be on the server yet")


def assert_uploaded(
    api: ApiClient, task_id: str, overrides: list[str], env: dict[str, str], cwd: Path
) -> None:
    task = api.get_task(task_id)
    assert task["status"] == "completed"
    assert task["configuration"]["OmegaConf"]["value"] == as_shown(
        hydra_cfg_job("groups", overrides, env, cwd)
    )
    assert task["hyperparams"]["Hydra"]["db"]["value"] == "postgresql"
    assert api.get_scalars(task_id)["loss"]["train"]["x"] == [0, 1, 2, 3, 4]
    console = "".join(i["text"] for i in api.get_console(task_id)["items"])
    assert console.count("db=postgresql épsilon ✓\n") == 1
    assert task["script"]["requirements"]["pip"]


def test_offline_run_then_sync_exactly_once(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    overrides = ["db=postgresql", "+experiment=fast"]
    run = run_app("groups", overrides, server.env(HYDRATRACK_OFFLINE="1"), tmp_path)
    assert run.returncode == 0, run.stderr
    assert "offline run" in run.stderr and "hydratrack sync" in run.stderr
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    assert_not_on_server(api, run.task_id)

    listed = sync(server.env(), "--list")
    assert run.task_id in listed.stdout
    first = sync(server.env())
    assert first.returncode == 0, first.stderr
    assert "synced" in first.stderr
    assert not (spool_dir(server) / run.task_id).exists()
    assert_uploaded(api, run.task_id, overrides, server.env(), tmp_path)

    again = sync(server.env())
    assert again.returncode == 0 and "nothing to sync" in again.stderr
    assert_uploaded(api, run.task_id, overrides, server.env(), tmp_path)


def test_sync_resumes_after_interruption_without_duplicates(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    run = run_app("groups", ["db=postgresql"], server.env(HYDRATRACK_OFFLINE="1"), tmp_path)
    assert run.returncode == 0, run.stderr
    task_dir = spool_dir(server) / run.task_id
    lines = (task_dir / "ops.jsonl").read_text().splitlines()
    first = sync(server.env())
    assert first.returncode == 0, first.stderr
    # a sync that died after delivering the last op but before moving its cursor
    task_dir.mkdir(parents=True)
    (task_dir / "ops.jsonl").write_text("\n".join(lines) + "\n")
    (task_dir / "sent").write_text(str(len(lines) - 1))
    second = sync(server.env())
    assert second.returncode == 0, second.stderr
    # every event batch delivered a second time (same batch ids): stored once
    task_dir.mkdir(parents=True)
    events_only = [ln for ln in lines if '"op": "events"' in ln]
    assert events_only
    (task_dir / "ops.jsonl").write_text("\n".join(events_only) + "\n")
    third = sync(server.env())
    assert third.returncode == 0, third.stderr
    assert_uploaded(api, run.task_id, ["db=postgresql"], server.env(), tmp_path)


def test_server_down_spools_then_sync(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    run = run_app("groups", ["db=postgresql"], server.env(HYDRATRACK_API_HOST=dead), tmp_path)
    elapsed = time.monotonic() - start
    assert run.returncode == 0, run.stderr
    assert elapsed < 15
    warnings = run.warnings()
    assert len(warnings) == 1 and "unreachable" in warnings[0] and "hydratrack sync" in warnings[0]
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    assert_not_on_server(api, run.task_id)
    res = sync(server.env())
    assert res.returncode == 0, res.stderr
    assert_uploaded(api, run.task_id, ["db=postgresql"], server.env(), tmp_path)


def test_sync_with_server_down_keeps_the_spool(server: ServerProcess, tmp_path: Path) -> None:
    run = run_app("groups", ["db=postgresql"], server.env(HYDRATRACK_OFFLINE="1"), tmp_path)
    dead = f"http://127.0.0.1:{free_port()}"
    res = sync(server.env(HYDRATRACK_API_HOST=dead))
    assert res.returncode == 1
    assert "cannot reach" in res.stderr and "stays spooled" in res.stderr
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    assert sync(server.env()).returncode == 0


def test_bad_credentials_one_warning_and_spooled(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    run = run_app("groups", ["db=postgresql"], server.env(HYDRATRACK_SECRET_KEY="wrong"), tmp_path)
    assert run.returncode == 0, run.stderr
    warnings = run.warnings()
    assert len(warnings) == 1, run.stderr
    assert "rejected the API credentials" in warnings[0]
    assert "db=postgresql épsilon ✓" in run.stdout
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    bad = sync(server.env(HYDRATRACK_SECRET_KEY="wrong"))
    assert bad.returncode == 1 and "rejected the API credentials" in bad.stderr
    res = sync(server.env())
    assert res.returncode == 0, res.stderr
    assert_uploaded(api, run.task_id, ["db=postgresql"], server.env(), tmp_path)


def test_server_that_never_answers_costs_at_most_the_exit_bound(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (kernel backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        run = run_app("groups", ["db=postgresql"], server.env(HYDRATRACK_API_HOST=host), tmp_path)
        elapsed = time.monotonic() - start
    assert run.returncode == 0, run.stderr
    assert elapsed < 2.0 + 5.0  # the 2 s exit bound plus Python and Hydra start-up
    assert "did not take everything before the exit deadline" in run.stderr
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    res = sync(server.env())
    assert res.returncode == 0, res.stderr
    assert_uploaded(api, run.task_id, ["db=postgresql"], server.env(), tmp_path)


def test_malformed_config_file_warns_and_spools(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("api_host = [unclosed\n")
    run = run_app(
        "groups", ["db=postgresql"], server.env(HYDRATRACK_CONFIG_FILE=str(bad)), tmp_path
    )
    assert run.returncode == 0, run.stderr
    warnings = run.warnings()
    assert len(warnings) == 1 and str(bad) in warnings[0] and "not valid TOML" in warnings[0]
    assert (spool_dir(server) / run.task_id / "ops.jsonl").is_file()
    res = sync(server.env())
    assert res.returncode == 0, res.stderr
    assert_uploaded(api, run.task_id, ["db=postgresql"], server.env(), tmp_path)


def test_offline_artifact_is_uploaded_by_sync(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    """Sync streams the spooled file as a multipart form over the SDK's stdlib wire."""
    data = bytes(range(256)) * 1000
    (tmp_path / "w.bin").write_bytes(data)
    code = (
        "from hydratrack import Task\n"
        "t = Task.init(project_name='sync', task_name='art', auto_connect_streams=False)\n"
        "t.upload_artifact('weights', 'w.bin', metadata={'epoch': 2})\n"
        "print(t.id)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=server.env(HYDRATRACK_OFFLINE="1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    task_id = run.stdout.split()[-1]
    (tmp_path / "w.bin").unlink()  # the spool kept its own copy
    done = sync(server.env())
    assert done.returncode == 0, done.stderr
    assert api.download_artifact(task_id, "weights") == data
    (item,) = api.list_artifacts(task_id)["items"]
    assert item["metadata"] == {"epoch": 2} and item["size"] == len(data)


INFO_APP = """
import hydra
from hydratrack import Task

task = Task.init(project_name="p", task_name="info")  # before the job: Hydra may not run one

@hydra.main(version_base=None, config_path=None)
def main(cfg):
    pass

if __name__ == "__main__":
    main()
"""


def test_offline_cfg_job_leaves_no_spool_entry(server: ServerProcess, tmp_path: Path) -> None:
    """``--cfg job`` runs no job, so no task: an offline run must not leave an empty
    spool entry that ``hydratrack sync --list`` would show forever."""
    (tmp_path / "app.py").write_text(INFO_APP)
    spool = tmp_path / "spool"
    env = server.env(HYDRATRACK_OFFLINE="1", HYDRATRACK_SPOOL_DIR=str(spool))
    proc = subprocess.run(
        [sys.executable, "app.py", "--cfg", "job"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hydratrack:" not in proc.stderr
    assert proc.stdout.strip() == "{}"  # Hydra printed the (empty) job config
    assert list(spool.iterdir()) == []
    listed = sync(env, "--list")
    assert listed.returncode == 0 and listed.stdout.strip() == ""

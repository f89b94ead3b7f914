"""The SDK's delivery contract under faults (docs/sdk.md, "Delivery contract"), with real
processes, counted exactly: every point and console line reported before exit reaches the
server (directly or through the spool and ``hydratrack sync``), once, in order, and the
final status comes last with the run's real end time.

Sizes: ``HYDRATRACK_FAULT_POINTS`` (default 200000) points and a hundredth as many
console lines per run; ``HYDRATRACK_FAULT_RUNS`` x ``HYDRATRACK_FAULT_RUN_POINTS`` for the
concurrent runs (default 20 x 10000; the issue's load is 20 x 50000)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess, free_port, running_server

POINTS = int(os.environ.get("HYDRATRACK_FAULT_POINTS", "200000"))
RUNS = int(os.environ.get("HYDRATRACK_FAULT_RUNS", "20"))
RUN_POINTS = int(os.environ.get("HYDRATRACK_FAULT_RUN_POINTS", "10000"))
SERIES = 4  # the points spread over this many series (the scalars API gives 100k a series)

SCRIPT = f"""
import sys, time
from hydratrack import Task
task = Task.init(project_name="faults", task_name="delivery")
print("TASK", task.id, file=sys.stderr, flush=True)
log = task.get_logger()
n, lines, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
every = max(1, n // lines)
for i in range(n):
    log.report_scalar("loss", f"v{{i % {SERIES}}}", value=float(i), iteration=i // {SERIES})
    if i % every == 0 and i // every < lines:
        print(f"line {{i // every}}")
        if pause:
            time.sleep(pause)
print("END", time.time(), file=sys.stderr, flush=True)
"""


def start_script(env: dict[str, str], cwd: Path, points: int, pause: float = 0.0) -> Any:
    args = [sys.executable, "-c", SCRIPT, str(points), str(lines_for(points)), str(pause)]
    return subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def finish_script(proc: Any) -> tuple[str, float, str]:
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    words = dict(line.split(" ", 1) for line in stderr.splitlines() if " " in line)
    return words["TASK"].strip(), float(words["END"]), stderr


def run_script(env: dict[str, str], cwd: Path, points: int = POINTS) -> tuple[str, float, str]:
    return finish_script(start_script(env, cwd, points))


def lines_for(points: int) -> int:
    return max(1, points // 100)


def sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hydratrack", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_delivered(
    api: ApiClient, task_id: str, ended: float, synced_at: float, points: int = POINTS
) -> None:
    task = api.get_task(task_id)
    assert task["status"] == "completed", task["status"]
    scalars = api.get_scalars(task_id, max_points=100_000)["loss"]
    per = points // SERIES
    for k in range(SERIES):
        series = scalars[f"v{k}"]
        assert series["x"] == list(range(per)), f"v{k}: {len(series['x'])} of {per} points"
        assert series["y"] == [float(i * SERIES + k) for i in range(per)]
    lines: list[str] = []
    after = -1
    while True:
        page = api.get_console(task_id, after=after, limit=10_000)
        if not page["items"]:
            break
        text = "".join(i["text"] for i in page["items"] if i["stream"] == "stdout")
        lines += text.splitlines()
        after = page["next_after"]
    want = lines_for(points)
    assert lines == [f"line {i}" for i in range(want)], f"{len(lines)} of {want} lines"
    completed = dt.datetime.fromisoformat(task["completed"].replace("Z", "+00:00")).timestamp()
    # the run's real end (the status comes after the last event), not the time of the sync
    assert ended - 1.0 <= completed <= ended + 5.0, (completed, ended)
    assert completed < synced_at - 1.0


def test_tiny_exit_deadline_loses_nothing(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    env = server.env(HYDRATRACK_EXIT_TIMEOUT="0.05")
    task_id, ended, stderr = run_script(env, tmp_path)
    time.sleep(2.0)
    synced_at = time.time()
    done = sync(server.env())
    assert done.returncode == 0, done.stderr
    assert_delivered(api, task_id, ended, synced_at)


def test_server_down_for_the_whole_run_then_sync(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    task_id, ended, stderr = run_script(server.env(HYDRATRACK_API_HOST=dead), tmp_path)
    assert "hydratrack sync" in stderr
    failed = sync(server.env(HYDRATRACK_API_HOST=dead))
    assert failed.returncode != 0  # nothing reached a server: sync says so
    time.sleep(2.0)
    synced_at = time.time()
    done = sync(server.env())
    assert done.returncode == 0, done.stderr
    assert_delivered(api, task_id, ended, synced_at)


def test_concurrent_runs_with_the_default_deadline(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    procs = [start_script(server.env(), tmp_path, RUN_POINTS) for _ in range(RUNS)]
    results = [finish_script(p) for p in procs]
    time.sleep(1.5)
    synced_at = time.time()
    done = sync(server.env())
    assert done.returncode == 0, done.stderr
    for task_id, ended, _ in results:
        assert_delivered(api, task_id, ended, synced_at, RUN_POINTS)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path / "srv")


def restart(server: ServerProcess) -> None:
    """The same server again (port, data, database) after a SIGKILL."""
    args = [sys.executable, "-m", "hydratrack", "server", "--host", "127.0.0.1"]
    args += ["--port", str(server.port), "--data-dir", str(server.data_dir)]
    args += ["--db", server.db_url] if server.db_url else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
    env.update(HOME=str(server.home), PYTHONUNBUFFERED="1")
    with open(server.log_path, "ab") as log:
        server.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    client = server.client()
    deadline = time.monotonic() + 60
    while True:
        try:
            client.health()
            break
        except Exception:  # noqa: BLE001 - not up yet
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
    client.close()


def test_server_killed_mid_run_and_restarted(own_server: ServerProcess, tmp_path: Path) -> None:
    points = 20_000
    proc = start_script(own_server.env(), tmp_path, points, pause=0.02)  # ~4 s of reports
    time.sleep(1.5)
    own_server.proc.send_signal(signal.SIGKILL)
    own_server.proc.wait(10)
    time.sleep(1.0)
    restart(own_server)
    task_id, ended, _ = finish_script(proc)
    time.sleep(1.5)
    synced_at = time.time()
    done = sync(own_server.env())  # (nothing left, or what the exit could not deliver)
    assert done.returncode == 0, done.stderr
    api = own_server.client()
    assert_delivered(api, task_id, ended, synced_at, points)
    api.close()


def test_sync_killed_midway_then_run_again(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    task_id, ended, _ = run_script(server.env(HYDRATRACK_OFFLINE="1"), tmp_path)
    spooled = server.home / ".hydratrack" / "spool" / task_id
    ops = len((spooled / "ops.jsonl").read_text().splitlines())
    assert ops > 3
    first = subprocess.Popen(
        [sys.executable, "-m", "hydratrack", "sync"],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (spooled / "sent").exists() and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    sent = int((spooled / "sent").read_text()) if (spooled / "sent").exists() else ops
    assert 0 < sent < ops, (sent, ops)  # killed part-way
    time.sleep(1.5)
    synced_at = time.time()
    done = sync(server.env())
    assert done.returncode == 0, done.stderr
    assert_delivered(api, task_id, ended, synced_at)

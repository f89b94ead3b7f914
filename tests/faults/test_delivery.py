"""The SDK's delivery contract under faults (docs/sdk.md, "Delivery contract"), with real
processes, counted exactly: every point and console line reported before exit reaches the
server (directly or through the spool and ``hydratrack sync``), once, in order, and the
final status comes last with the run's real end time.

Sizes: ``HYDRATRACK_FAULT_POINTS`` (default 200000) points and a tenth as many console
lines per run."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess, free_port

POINTS = int(os.environ.get("HYDRATRACK_FAULT_POINTS", "200000"))
LINES = max(1, POINTS // 100)
SERIES = 4  # the points spread over this many series (the scalars API gives 100k a series)

SCRIPT = f"""
import sys, time
from hydratrack import Task
task = Task.init(project_name="faults", task_name="delivery")
print("TASK", task.id, file=sys.stderr, flush=True)
log = task.get_logger()
n, lines = int(sys.argv[1]), int(sys.argv[2])
every = max(1, n // lines)
for i in range(n):
    log.report_scalar("loss", f"v{{i % {SERIES}}}", value=float(i), iteration=i // {SERIES})
    if i % every == 0 and i // every < lines:
        print(f"line {{i // every}}")
print("END", time.time(), file=sys.stderr, flush=True)
"""


def run_script(env: dict[str, str], cwd: Path) -> tuple[str, float, str]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(POINTS), str(LINES)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    words = dict(line.split(" ", 1) for line in proc.stderr.splitlines() if " " in line)
    return words["TASK"].strip(), float(words["END"]), proc.stderr


def sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hydratrack", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_delivered(api: ApiClient, task_id: str, ended: float, synced_at: float) -> None:
    task = api.get_task(task_id)
    assert task["status"] == "completed", task["status"]
    scalars = api.get_scalars(task_id, max_points=100_000)["loss"]
    per = POINTS // SERIES
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
    assert lines == [f"line {i}" for i in range(LINES)], f"{len(lines)} of {LINES} lines"
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

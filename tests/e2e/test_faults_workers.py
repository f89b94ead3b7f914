"""Faults with real processes, counted exactly: an agent SIGKILLed mid-run (its task failed,
or re-queued and finished by another agent, by the queue's policy), and the server
SIGKILLed and restarted while an agent runs a task (the task completes with every event).

The task is a small script using the SDK: ``count.py N PAUSE`` reports scalar ``count/x``
= i at iteration i and prints ``line i``, for i in 0..N-1.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from hydratrack.client import ApiClient
from tests.e2e.agents import AgentProcess, wait_status, wait_until
from tests.support.servers import ServerProcess, restart_server, running_server

pytestmark = pytest.mark.slow
LEASE = ["--lease-seconds", "3", "--sweep-seconds", "0.2"]

COUNT = """\
import sys, time
from hydratrack import Task
n, pause = int(sys.argv[1]), float(sys.argv[2])
log = Task.init(project_name="faults", task_name="count").get_logger()
for i in range(n):
    log.report_scalar("count", "x", value=float(i), iteration=i)
    print(f"line {i}")
    time.sleep(pause)
"""
PRINT = """\
import sys, time
n, pause = int(sys.argv[1]), float(sys.argv[2])
for i in range(n):
    print(f"line {i}", flush=True)
    time.sleep(pause)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("faults-server"), extra_args=LEASE)


def make_task(api: ApiClient, tmp_path: Path, source: str, n: int, pause: float) -> str:
    (tmp_path / "count.py").write_text(source)
    task = api.create_task(
        {
            "name": f"count {n}",
            "project": "faults",
            "script": {
                "entry_point": "count.py",
                "argv": [str(n), str(pause)],
                "working_dir": str(tmp_path),
            },
        }
    )
    return str(task["id"])


def points(api: ApiClient, task_id: str) -> list[tuple[int, float]]:
    series = api.get_scalars(task_id, max_points=100_000).get("count", {}).get("x")
    return list(zip(series["x"], series["y"], strict=True)) if series else []


def lines(api: ApiClient, task_id: str) -> list[str]:
    return [c["text"] for c in api.get_console(task_id, limit=10_000)["items"]]


def child_lines(api: ApiClient, task_id: str) -> list[str]:
    """The task's own output (not the agent's or the server's notes)."""
    return [t for t in lines(api, task_id) if t.startswith("line ")]


def expected(n: int) -> list[str]:
    return [f"line {i}\n" for i in range(n)]


def killed(agent: AgentProcess) -> None:
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(10)
    pids = agent.child_pids()  # the child dies with its agent (PR_SET_PDEATHSIG)
    wait_until(lambda: not any(_alive(p) for p in pids), 10, "the task process to end")


def _alive(pid: int) -> bool:
    """Running (a zombie not yet reaped by init counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_agent_killed_task_fails_by_default(
    server: ServerProcess, api: ApiClient, queue: str, tmp_path: Path
) -> None:
    task_id = make_task(api, tmp_path, COUNT, 400, 0.05)
    agent = AgentProcess(server, tmp_path / "a", "--queue", queue, name=f"doomed-{queue}")
    try:
        api.enqueue_task(task_id, queue)
        wait_until(lambda: len(points(api, task_id)) >= 5, 30, "the first points")
        killed(agent)
        done = wait_status(api, task_id, {"failed", "completed", "queued"}, timeout=20)
    finally:
        agent.stop()
    assert done["status"] == "failed"
    assert done["status_reason"] == f"worker doomed-{queue} lost: no heartbeat for 3 s"
    got = points(api, task_id)
    assert 5 <= len(got) < 400 and got == [(i, float(i)) for i in range(len(got))]


def test_agent_killed_task_is_requeued_and_finished_by_another(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    queue = "retry-" + uuid.uuid4().hex[:8]
    api.create_queue(queue, lost_worker_policy="requeue", lost_worker_retries=1)
    n = 60
    task_id = make_task(api, tmp_path, COUNT, n, 0.05)
    first = AgentProcess(server, tmp_path / "a", "--queue", queue, name=f"first-{queue}")
    second = None
    try:
        api.enqueue_task(task_id, queue)
        wait_until(lambda: len(points(api, task_id)) >= 10, 30, "the first attempt's points")
        killed(first)
        requeued = wait_status(api, task_id, {"queued", "failed"}, timeout=20)
        reason = f"worker first-{queue} lost: no heartbeat for 3 s; requeued, attempt 2 of 2"
        assert requeued["status"] == "queued" and requeued["status_reason"] == reason
        assert points(api, task_id) == []  # the lost attempt's points are dropped
        before = child_lines(api, task_id)
        second = AgentProcess(server, tmp_path / "b", "--queue", queue, name=f"second-{queue}")
        done = wait_status(api, task_id, {"completed", "failed", "stopped"}, timeout=60)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert done["status"] == "completed", done["status_reason"]
    assert done["attempt"] == 2 and done["worker"]["name"] == f"second-{queue}"
    assert points(api, task_id) == [(i, float(i)) for i in range(n)]  # N of N, once each
    console = lines(api, task_id)
    marks = [i for i, t in enumerate(console) if t.startswith(f"[hydratrack server] {reason}")]
    assert len(marks) == 1  # the attempt boundary, once
    assert [t for t in console[: marks[0]] if t.startswith("line ")] == before
    # the first attempt's lines, in order (those its agent had not sent died with it)
    assert before == expected(len(before))
    assert [t for t in console[marks[0] :] if t.startswith("line ")] == expected(n)


def test_server_killed_mid_run_and_restarted(tmp_path: Path) -> None:
    """The agent keeps running its task while the server is away and reconnects; the SDK
    in the task retries; every point and line arrives once."""
    servers = running_server(tmp_path / "srv", extra_args=LEASE)
    srv = next(servers)
    again = None
    agent = None
    n = 150
    try:
        api = srv.client()
        task_id = make_task(api, tmp_path, COUNT, n, 0.05)
        agent = AgentProcess(srv, tmp_path / "a", "--queue", "default", name="steady")
        api.enqueue_task(task_id)
        wait_until(lambda: len(points(api, task_id)) >= 10, 30, "the first points")
        api.close()
        srv.proc.kill()
        srv.proc.wait(10)
        time.sleep(2.0)
        again = restart_server(srv, extra_args=LEASE)
        api = again.client()
        done = wait_status(api, task_id, {"completed", "failed", "stopped"}, timeout=60)
        assert done["status"] == "completed", done["status_reason"]
        assert points(api, task_id) == [(i, float(i)) for i in range(n)]
        assert child_lines(api, task_id) == expected(n)
        (tmp_path / "next").mkdir()
        after = make_task(api, tmp_path / "next", PRINT, 3, 0)
        api.enqueue_task(after)  # the same agent, still registered, takes the next task
        done = wait_status(api, after, {"completed", "failed", "stopped"}, timeout=30)
        assert done["status"] == "completed" and done["worker"]["name"] == "steady"
        assert child_lines(api, after) == expected(3)
        api.close()
    finally:
        if agent is not None:
            agent.stop()
        if again is not None:
            again.stop()
        servers.close()


def test_server_down_when_the_task_ends(tmp_path: Path) -> None:
    """The task ends while the server is down (longer than a lease): the agent keeps its
    console and its final status until the restarted server takes them."""
    servers = running_server(tmp_path / "srv", extra_args=LEASE)
    srv = next(servers)
    again = None
    agent = None
    n = 40
    try:
        api = srv.client()
        task_id = make_task(api, tmp_path, PRINT, n, 0.05)
        agent = patient = AgentProcess(srv, tmp_path / "a", "--queue", "default", name="patient")
        api.enqueue_task(task_id)
        wait_until(lambda: child_lines(api, task_id), 30, "the first lines")
        api.close()
        srv.proc.kill()
        srv.proc.wait(10)
        wait_until(lambda: "exited with code 0" in patient.log(), 20, "the task to end")
        time.sleep(4.0)  # down longer than the lease (3 s), the run over meanwhile
        again = restart_server(srv, extra_args=LEASE)
        api = again.client()
        done = wait_status(api, task_id, {"completed", "failed", "stopped"}, timeout=60)
        assert done["status"] == "completed", done["status_reason"]
        assert child_lines(api, task_id) == expected(n)
        api.close()
    finally:
        if agent is not None:
            agent.stop()
        if again is not None:
            again.stop()
        servers.close()

"""The heartbeat's abort list against a real server: an answer about the task the agent just
finished must not stop the task it runs next (it did: a late answer stopped the next task)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from hydratrack.agent.daemon import Agent
from hydratrack.agent.runner import TaskRunner
from hydratrack.agent.settings import AgentSettings
from hydratrack.agent.workspace import Workspace
from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess, running_server


def _agent(server: ServerProcess, api: ApiClient, tmp_path: Path, queue: str) -> Agent:
    env = server.env()
    client_env = {
        k: env[k] for k in ("HYDRATRACK_API_HOST", "HYDRATRACK_ACCESS_KEY", "HYDRATRACK_SECRET_KEY")
    }
    runner = TaskRunner(api, Workspace(tmp_path / "work"), client_env=client_env, grace=2.0)
    agent = Agent(api, runner, AgentSettings(workdir=tmp_path / "work", queue=[queue]))
    agent.worker_id = str(api.register_worker("hb-" + queue, [queue])["id"])
    return agent


def _sleeper(api: ApiClient, tmp_path: Path, queue: str, seconds: float) -> str:
    (tmp_path / "sleep.py").write_text(f"import time\ntime.sleep({seconds})\nprint('done')\n")
    task = api.create_task(
        {
            "name": "sleeper",
            "project": "agent-heartbeat",
            "script": {
                "entry_point": "sleep.py",
                "argv": [],
                "working_dir": str(tmp_path),
            },
        }
    )
    api.enqueue_task(task["id"], queue)
    return str(task["id"])


def _claim(api: ApiClient, agent: Agent, task_id: str) -> dict:
    claimed = api.claim(str(agent.worker_id), timeout=5)
    assert claimed is not None and claimed["id"] == task_id
    return claimed


def _start(agent: Agent, task: dict) -> tuple[threading.Thread, list[str]]:
    """Run ``task`` on the agent's runner in a thread; return once the runner is on it."""
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(agent.runner.run(task)))
    thread.start()
    deadline = time.monotonic() + 10
    while agent.runner.task_id != task["id"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return thread, result


def test_an_abort_for_the_finished_task_does_not_stop_the_next(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    queue = "hb" + uuid.uuid4().hex[:8]
    api.create_queue(queue)
    agent = _agent(server, api, tmp_path, queue)
    first = _sleeper(api, tmp_path, queue, 0)
    _claim(api, agent, first)
    api.set_status(first, "completed")  # the runner reported the first task done ...
    second = _sleeper(api, tmp_path, queue, 1.5)
    thread, result = _start(agent, _claim(api, agent, second))  # ... and runs the second now
    try:
        agent.task_id = first  # a heartbeat still naming the first task
        agent.beat()  # the server answers: stop `first` (it is not running any more)
        assert not agent.runner.abort_event.is_set()
    finally:
        thread.join(30)
    assert result == ["completed"]
    assert api.get_task(second)["status"] == "completed"


def test_an_abort_for_the_running_task_stops_it(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    queue = "hb" + uuid.uuid4().hex[:8]
    api.create_queue(queue)
    agent = _agent(server, api, tmp_path, queue)
    task_id = _sleeper(api, tmp_path, queue, 30)
    thread, result = _start(agent, _claim(api, agent, task_id))
    try:
        api.abort_task(task_id)
        agent.task_id = task_id
        agent.beat()
        assert agent.runner.abort_event.is_set()
    finally:
        thread.join(30)
    assert result == ["stopped"]
    assert api.get_task(task_id)["status"] == "stopped"


def test_a_run_whose_task_was_requeued_reports_no_status(tmp_path: Path) -> None:
    """Cut off longer than the lease, the task went back on its queue and another worker
    took it: the old run ending must not report its status over the new attempt's."""
    servers = running_server(tmp_path / "srv", extra_args=["--lease-seconds", "1"])
    srv = next(servers)
    try:
        with srv.client() as api:
            queue = "hb" + uuid.uuid4().hex[:8]
            api.create_queue(queue, lost_worker_policy="requeue", lost_worker_retries=1)
            agent = _agent(srv, api, tmp_path, queue)  # no heartbeat thread: cut off
            task_id = _sleeper(api, tmp_path, queue, 4)
            thread, result = _start(agent, _claim(api, agent, task_id))
            try:
                deadline = time.monotonic() + 15
                while api.get_task(task_id)["status"] != "queued":
                    assert time.monotonic() < deadline, "the lost task was not re-queued"
                    time.sleep(0.1)
                other = api.register_worker("other-" + queue, [queue])
                assert api.claim(other["id"], timeout=5)["id"] == task_id  # type: ignore[index]
                while thread.is_alive():  # the other worker is alive and well
                    api.heartbeat(other["id"], task_id)
                    thread.join(0.3)
            finally:
                thread.join(30)
            assert result == ["in_progress"]  # what the task is now; nothing reported
            now = api.get_task(task_id)
            assert now["status"] == "in_progress" and now["worker"]["id"] == other["id"]
    finally:
        servers.close()


def test_a_worker_registered_again_under_its_name_still_reports(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    queue = "hb" + uuid.uuid4().hex[:8]
    api.create_queue(queue)
    agent = _agent(server, api, tmp_path, queue)
    task_id = _sleeper(api, tmp_path, queue, 1.5)
    thread, result = _start(agent, _claim(api, agent, task_id))
    try:
        again = api.register_worker("hb-" + queue, [queue])  # same name: its tasks move over
        assert api.get_task(task_id)["worker"]["id"] == again["id"] != agent.worker_id
    finally:
        thread.join(30)
    assert result == ["completed"]
    assert api.get_task(task_id)["status"] == "completed"

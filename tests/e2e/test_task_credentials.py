"""A task's process never holds its agent's key pair (issue #12): Bob, a member, enqueues
code that tries to make itself an admin; the agent that runs it (on an agent key, or on
the admin's own key pair as on a single-user laptop) hands it only a token of its task."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from hydratrack.client import ApiClient
from tests.api.people import admin_client, person
from tests.e2e.agents import AgentProcess, console_text, wait_status
from tests.support.servers import ServerProcess

FINAL = {"completed", "failed", "stopped"}

# Bob's code: everything a task's process can reach, tried
CODE = """
import json, os
from hydratrack.client import ApiClient
out = {"env": {k: v for k, v in os.environ.items() if k.startswith("HYDRATRACK_")}}
api = ApiClient()
out["me"] = api.me()
try:
    api.create_user("EVIL_NAME", "a-long-password", is_admin=True)
    out["create_user"] = "created"
except Exception as exc:
    out["create_user"] = str(exc)
own = os.environ["HYDRATRACK_TASK_ID"]
out["own_task"] = api.get_task(own)["id"]
try:
    api.get_task("OTHER_TASK")
    out["other_task"] = "read"
except Exception as exc:
    out["other_task"] = str(exc)
print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.fixture
def bob(server: ServerProcess) -> Iterator[httpx.Client]:
    with person(server, "member") as client:
        yield client


def _bobs_task(bob: httpx.Client, tmp_path: Path, queue: str, other: str, evil: str) -> str:
    code = CODE.replace("EVIL_NAME", evil).replace("OTHER_TASK", other)
    body = {
        "name": "innocent",
        "project": f"bob-{secrets.token_hex(3)}",
        "script": {"entry_point": "-c", "argv": [code], "working_dir": str(tmp_path)},
    }
    task = bob.post("/tasks", json=body).json()
    resp = bob.post(f"/tasks/{task['id']}/enqueue", json={"queue": queue})
    assert resp.status_code == 200, resp.text
    return str(task["id"])


def _result(api: ApiClient, task_id: str) -> dict[str, Any]:
    done = wait_status(api, task_id, FINAL, timeout=90)
    text = console_text(api, task_id)
    assert done["status"] == "completed", text
    line = next(x for x in text.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def _agent_env(server: ServerProcess, home: Path, pair: dict[str, str]) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return server.env(
        HOME=str(home),
        HYDRATRACK_ACCESS_KEY=pair["access_key"],
        HYDRATRACK_SECRET_KEY=pair["secret_key"],
    )


def _check_contained(
    server: ServerProcess, out: dict[str, Any], task_id: str, evil: str, agent_key: str
) -> None:
    env = out["env"]
    assert env["HYDRATRACK_ACCESS_KEY"] not in (agent_key, server.access_key)
    assert "HYDRATRACK_CONFIG_FILE" not in env
    assert out["me"]["credential"] == {"scope": "task", "task_id": task_id}
    assert "403" in out["create_user"], out
    assert "403" in out["other_task"], out
    assert out["own_task"] == task_id
    with admin_client(server) as admin:
        assert evil not in [u["name"] for u in admin.get("/users").json()["items"]]
    # the token ended with the task
    token = (env["HYDRATRACK_ACCESS_KEY"], env["HYDRATRACK_SECRET_KEY"])
    with httpx.Client(base_url=server.url + "/api/v1", auth=token) as child:
        assert child.get(f"/tasks/{task_id}").status_code == 401


def test_code_enqueued_by_a_member_cannot_use_an_agent_keys_rights(
    server: ServerProcess, api: ApiClient, bob: httpx.Client, queue: str, tmp_path: Path
) -> None:
    """The agent runs on an agent key (``hydratrack keys create --agent``) of the admin."""
    with admin_client(server) as admin:
        pair = admin.post("/auth/keys", json={"label": "agent", "agent": True}).json()
        other = admin.post("/tasks", json={"name": "secret", "project": "admin-only"}).json()
    evil = f"evil-{secrets.token_hex(3)}"
    task_id = _bobs_task(bob, tmp_path, queue, other["id"], evil)
    agent = AgentProcess(
        server,
        tmp_path / "work",
        "--queue",
        queue,
        name=f"a-{secrets.token_hex(3)}",
        env=_agent_env(server, tmp_path / "agent-home", pair),
    )
    try:
        out = _result(api, task_id)
    finally:
        agent.stop()
    assert "runs on a person's key pair" not in agent.log()
    _check_contained(server, out, task_id, evil, pair["access_key"])


def test_an_agent_on_the_admins_own_key_pair_passes_on_only_a_task_token(
    server: ServerProcess, api: ApiClient, bob: httpx.Client, queue: str, tmp_path: Path
) -> None:
    """The single-user laptop: the agent runs on the admin's key pair (the repro of #12:
    the process got it in its environment and made an admin user)."""
    other = api.create_task({"name": "secret", "project": "admin-only"})
    evil = f"evil-{secrets.token_hex(3)}"
    task_id = _bobs_task(bob, tmp_path, queue, other["id"], evil)
    pair = {"access_key": server.access_key, "secret_key": server.secret_key}
    agent = AgentProcess(
        server,
        tmp_path / "work",
        "--queue",
        queue,
        name=f"a-{secrets.token_hex(3)}",
        env=_agent_env(server, tmp_path / "agent-home", pair),
    )
    try:
        out = _result(api, task_id)
    finally:
        agent.stop()
    assert "runs on a person's key pair" in agent.log()  # warned
    _check_contained(server, out, task_id, evil, pair["access_key"])


def test_an_agent_key_serves_queues_and_nothing_else(server: ServerProcess) -> None:
    with admin_client(server) as admin:
        pair = admin.post("/auth/keys", json={"agent": True}).json()
        task = admin.post("/tasks", json={"name": "t", "project": "admin-only"}).json()
    with httpx.Client(
        base_url=server.url + "/api/v1", auth=(pair["access_key"], pair["secret_key"])
    ) as agent:
        assert agent.get("/auth/me").json()["credential"]["scope"] == "agent"
        for resp in (
            agent.get(f"/tasks/{task['id']}"),
            agent.get("/tasks"),
            agent.post("/tasks", json={"name": "t", "project": "x"}),
            agent.post("/users", json={"name": "x", "password": "a-long-password"}),
            agent.post("/auth/keys", json={}),
            agent.post(f"/tasks/{task['id']}/token"),
        ):
            assert resp.status_code == 403, resp.text


def test_an_agent_limited_to_a_users_tasks_leaves_others_queued(
    server: ServerProcess, bob: httpx.Client, queue: str
) -> None:
    with admin_client(server) as admin:
        pair = admin.post("/auth/keys", json={"agent": True}).json()
        theirs = admin.post("/tasks", json={"name": "t", "project": f"p-{secrets.token_hex(3)}"})
        assert admin.post(f"/tasks/{theirs.json()['id']}/enqueue", json={"queue": queue}).is_success
    bobs = bob.post("/tasks", json={"name": "t", "project": f"p-{secrets.token_hex(3)}"}).json()
    assert bob.post(f"/tasks/{bobs['id']}/enqueue", json={"queue": queue}).is_success
    bob_name = bob.get("/auth/me").json()["user"]["name"]
    with httpx.Client(
        base_url=server.url + "/api/v1", auth=(pair["access_key"], pair["secret_key"])
    ) as agent:
        body = {"name": f"w-{secrets.token_hex(3)}", "queues": [queue], "users": [bob_name]}
        worker = agent.post("/workers", json=body).json()
        got = agent.post(f"/workers/{worker['id']}/claim", json={"timeout": 2})
        assert got.status_code == 200 and got.json()["id"] == bobs["id"]
        again = agent.post(f"/workers/{worker['id']}/claim", json={"timeout": 0.5})
        assert again.status_code == 204  # the admin's task is not for this agent


def test_agent_only_project_flag_leaves_other_projects_tasks_queued(
    server: ServerProcess, api: ApiClient, queue: str, tmp_path: Path
) -> None:
    (tmp_path / "ok.py").write_text("print('ran')\n")
    script = {"entry_point": "ok.py", "argv": [], "working_dir": str(tmp_path)}
    mine, other = f"mine-{secrets.token_hex(3)}", f"other-{secrets.token_hex(3)}"
    skipped = api.create_task({"name": "not mine", "project": other, "script": script})
    taken = api.create_task({"name": "mine", "project": mine, "script": script})
    for task in (skipped, taken):  # the other project's task is first in the queue
        api.enqueue_task(task["id"], queue)
    with admin_client(server) as admin:
        pair = admin.post("/auth/keys", json={"agent": True}).json()
    agent = AgentProcess(
        server,
        tmp_path / "work",
        "--queue",
        queue,
        "--only-project",
        mine,
        "--once",
        name=f"a-{secrets.token_hex(3)}",
        env=_agent_env(server, tmp_path / "agent-home", pair),
    )
    try:
        assert wait_status(api, taken["id"], FINAL)["status"] == "completed", agent.log()
    finally:
        agent.stop()
    assert api.get_task(skipped["id"])["status"] == "queued"

"""The attacks of issue #12 by a second, non-admin user against a real server: each is
refused and leaves the admin's work as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.api.conftest import assert_error, unique
from tests.api.people import admin_client, person
from tests.support.servers import ServerProcess, running_server


def _admin_task(admin: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"name": unique("admin-task"), "project": unique("admin-proj"), **extra}
    resp = admin.post("/tasks", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[httpx.Client]:
    with admin_client(server) as client:
        yield client


@pytest.fixture
def bob(server: ServerProcess) -> Iterator[httpx.Client]:
    with person(server, "member") as client:
        yield client


def test_member_cannot_rename_reset_or_delete_an_admins_task(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    task = _admin_task(admin, hyperparams={"Hydra": {"db": {"value": "postgresql"}}})
    tid = task["id"]
    assert bob.get(f"/tasks/{tid}").status_code == 200  # members read all projects (default)
    assert_error(bob.patch(f"/tasks/{tid}", json={"name": "mine now"}), 403, "forbidden")
    assert_error(bob.post(f"/tasks/{tid}/reset"), 403, "forbidden")
    assert_error(bob.delete(f"/tasks/{tid}"), 403, "forbidden")
    assert_error(
        bob.patch(f"/tasks/{tid}/hyperparams", json={"Hydra": {"db": {"value": "x"}}}),
        403,
        "forbidden",
    )
    assert_error(bob.post(f"/tasks/{tid}/events", json={"scalars": []}), 403, "forbidden")
    assert_error(bob.post(f"/tasks/{tid}/status", json={"status": "failed"}), 403, "forbidden")
    assert_error(
        bob.patch(f"/projects/{task['project']['id']}", json={"name": unique("stolen")}),
        403,
        "forbidden",
    )
    after = admin.get(f"/tasks/{tid}").json()
    assert after["name"] == task["name"] and after["status"] == "draft"
    assert after["hyperparams"]["Hydra"]["db"]["value"] == "postgresql"


def test_member_cannot_create_tasks_in_an_admins_project_but_in_his_own(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    task = _admin_task(admin)
    resp = bob.post("/tasks", json={"name": "t", "project": task["project"]["name"]})
    assert_error(resp, 403, "forbidden")
    assert_error(bob.post(f"/tasks/{task['id']}/clone", json={"name": "copy"}), 403, "forbidden")
    own = unique("bob-proj")
    mine = bob.post("/tasks", json={"name": "t", "project": own})
    assert mine.status_code == 201, mine.text
    bob_id = bob.get("/auth/me").json()["user"]["id"]
    project = bob.get(f"/projects/{mine.json()['project']['id']}").json()
    assert project["owner_id"] == bob_id  # made by his task: his
    copy = bob.post(f"/tasks/{task['id']}/clone", json={"name": "copy", "project": own})
    assert copy.status_code == 201, copy.text  # reading is enough to clone into his own
    assert bob.patch(f"/tasks/{mine.json()['id']}", json={"name": "renamed"}).status_code == 200


def test_granted_edit_lets_a_member_work_in_a_project_and_revoke_ends_it(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    task = _admin_task(admin)
    pid, tid = task["project"]["id"], task["id"]
    bob_name = bob.get("/auth/me").json()["user"]["name"]
    assert_error(bob.patch(f"/tasks/{tid}", json={"name": "x"}), 403, "forbidden")
    assert admin.put(f"/projects/{pid}/permissions/{bob_name}", json={"level": "edit"}).is_success
    listed = admin.get(f"/projects/{pid}/permissions").json()
    assert [(g["user"]["name"], g["level"]) for g in listed["items"]] == [(bob_name, "edit")]
    assert bob.patch(f"/tasks/{tid}", json={"name": "x"}).status_code == 200
    # edit is not manage: he cannot grant others
    assert_error(
        bob.put(f"/projects/{pid}/permissions/{bob_name}", json={"level": "manage"}),
        403,
        "forbidden",
    )
    assert admin.delete(f"/projects/{pid}/permissions/{bob_name}").status_code == 204
    assert_error(bob.patch(f"/tasks/{tid}", json={"name": "y"}), 403, "forbidden")


def test_member_cannot_replace_an_admins_artifact(admin: httpx.Client, bob: httpx.Client) -> None:
    tid = _admin_task(admin)["id"]
    up = admin.post(f"/tasks/{tid}/artifacts", data={"name": "model"}, files={"file": b"real"})
    assert up.status_code == 201, up.text
    resp = bob.post(f"/tasks/{tid}/artifacts", data={"name": "model"}, files={"file": b"evil"})
    assert_error(resp, 403, "forbidden")
    assert admin.get(f"/tasks/{tid}/artifacts/model/file").content == b"real"


def test_member_cannot_delete_an_admins_queue(admin: httpx.Client, bob: httpx.Client) -> None:
    name = unique("q")
    assert admin.post("/queues", json={"name": name}).status_code == 201
    assert_error(bob.delete(f"/queues/{name}"), 403, "forbidden")
    assert admin.get(f"/queues/{name}").status_code == 200
    mine = unique("bobq")
    assert bob.post("/queues", json={"name": mine}).status_code == 201
    assert bob.delete(f"/queues/{mine}").status_code == 204  # his own


def test_member_cannot_take_over_an_admins_worker(admin: httpx.Client, bob: httpx.Client) -> None:
    queue, name = unique("q"), unique("gpu")
    assert admin.post("/queues", json={"name": queue}).status_code == 201
    worker = admin.post("/workers", json={"name": name, "queues": [queue]}).json()
    tid = _admin_task(admin)["id"]
    assert admin.post(f"/tasks/{tid}/enqueue", json={"queue": queue}).status_code == 200
    claimed = admin.post(f"/workers/{worker['id']}/claim", json={"timeout": 5})
    assert claimed.status_code == 200 and claimed.json()["id"] == tid
    taken = bob.post("/workers", json={"name": name, "queues": [queue]})
    assert_error(taken, 403, "forbidden")  # he may not serve the queue
    bob_name = bob.get("/auth/me").json()["user"]["name"]
    assert admin.put(f"/queues/{queue}/permissions/{bob_name}").status_code == 204
    taken = bob.post("/workers", json={"name": name, "queues": [queue]})
    assert_error(taken, 409, "conflict", name)  # granted, still not the admin's worker name
    assert_error(bob.post(f"/workers/{worker['id']}/heartbeat", json={}), 403, "forbidden")
    assert_error(bob.post(f"/workers/{worker['id']}/claim", json={"timeout": 0}), 403, "forbidden")
    assert_error(bob.delete(f"/workers/{worker['id']}"), 403, "forbidden")
    assert admin.get(f"/tasks/{tid}").json()["worker"]["id"] == worker["id"]
    beat = admin.post(f"/workers/{worker['id']}/heartbeat", json={"task_id": tid})
    assert beat.json() == {"abort": []}
    # the same key re-registers its own name (an agent restarting)
    again = admin.post("/workers", json={"name": name, "queues": [queue]})
    assert again.status_code == 201, again.text


def test_member_cannot_enqueue_to_a_queue_he_is_not_granted(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    gpu = unique("gpu")
    made = admin.post("/queues", json={"name": gpu, "access": "granted"})
    assert made.status_code == 201 and made.json()["access"] == "granted", made.text
    mine = bob.post("/tasks", json={"name": "t", "project": unique("bob-proj")}).json()
    assert_error(bob.post(f"/tasks/{mine['id']}/enqueue", json={"queue": gpu}), 403, "forbidden")
    assert bob.get(f"/tasks/{mine['id']}").json()["status"] == "draft"
    bob_name = bob.get("/auth/me").json()["user"]["name"]
    assert admin.put(f"/queues/{gpu}/permissions/{bob_name}").status_code == 204
    assert bob.post(f"/tasks/{mine['id']}/enqueue", json={"queue": gpu}).status_code == 200
    # nor serve it (an agent of his would receive the admin's tasks)
    other_gpu = unique("gpu")
    assert admin.post("/queues", json={"name": other_gpu, "access": "granted"}).is_success
    resp = bob.post("/workers", json={"name": unique("w"), "queues": [other_gpu]})
    assert_error(resp, 403, "forbidden")
    # a queue open to members (the default) takes his task too
    other = bob.post("/tasks", json={"name": "t2", "project": unique("bob-proj")}).json()
    assert bob.post(f"/tasks/{other['id']}/enqueue", json={"queue": "default"}).is_success


def test_member_cannot_create_users_or_change_roles(admin: httpx.Client, bob: httpx.Client) -> None:
    body = {"name": unique("evil"), "password": "a-long-password", "role": "admin"}
    assert_error(bob.post("/users", json=body), 403, "forbidden")
    me = bob.get("/auth/me").json()["user"]
    assert me["role"] == "member" and me["is_admin"] is False
    assert_error(bob.patch(f"/users/{me['name']}", json={"role": "admin"}), 403, "forbidden")
    assert admin.patch(f"/users/{me['name']}", json={"role": "viewer"}).json()["role"] == "viewer"


def test_viewer_reads_but_cannot_write_anything(admin: httpx.Client, server: ServerProcess) -> None:
    task = _admin_task(admin)
    with person(server, "viewer") as viewer:
        assert viewer.get(f"/tasks/{task['id']}").status_code == 200
        assert viewer.get("/tasks").status_code == 200
        for resp in (
            viewer.post("/tasks", json={"name": "t", "project": unique("viewer-proj")}),
            viewer.post("/projects", json={"name": unique("viewer-proj")}),
            viewer.post("/queues", json={"name": unique("viewer-q")}),
            viewer.post("/workers", json={"name": unique("viewer-w")}),
            viewer.post(f"/tasks/{task['id']}/clone", json={"project": unique("p")}),
            viewer.patch(f"/tasks/{task['id']}", json={"name": "x"}),
            viewer.post("/auth/keys", json={"agent": True}),
        ):
            assert_error(resp, 403, "forbidden")


def test_role_change_is_refused_for_the_last_admin(tmp_path: Path) -> None:
    # a server of its own: on the shared one, other tests make more admins
    for srv in running_server(tmp_path):
        with admin_client(srv) as admin:
            resp = admin.patch("/users/admin", json={"role": "member"})
            assert_error(resp, 409, "conflict", "last admin")


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Members read only their own projects and what they are granted."""
    yield from running_server(tmp_path, extra_args=["--project-access", "none"])


def test_project_access_none_hides_others_projects(private_server: ServerProcess) -> None:
    with admin_client(private_server) as admin, person(private_server, "member") as bob:
        task = _admin_task(admin)
        own = bob.post("/tasks", json={"name": "mine", "project": unique("bob-proj")}).json()
        assert [t["id"] for t in bob.get("/tasks").json()["items"]] == [own["id"]]
        listed = bob.get("/projects").json()
        assert [p["id"] for p in listed["items"]] == [own["project"]["id"]]
        assert listed["total"] == 1
        assert admin.get("/tasks").json()["total"] == 2
        assert_error(bob.get(f"/tasks/{task['id']}"), 403, "forbidden")
        assert_error(bob.get(f"/tasks/{task['id']}/hyperparams"), 403, "forbidden")
        assert_error(bob.get(f"/projects/{task['project']['id']}"), 403, "forbidden")
        bob_name = bob.get("/auth/me").json()["user"]["name"]
        grant = {"level": "read"}
        pid = task["project"]["id"]
        assert admin.put(f"/projects/{pid}/permissions/{bob_name}", json=grant).is_success
        assert bob.get(f"/tasks/{task['id']}").status_code == 200
        assert bob.get("/tasks").json()["total"] == 2  # granted: listed too
        assert_error(bob.patch(f"/tasks/{task['id']}", json={"name": "x"}), 403, "forbidden")


def test_project_access_none_hides_others_tasks_in_queues_and_workers(
    private_server: ServerProcess,
) -> None:
    """A queue's entries and a worker's running task named the admin's private tasks to
    every member."""
    with admin_client(private_server) as admin, person(private_server, "member") as bob:
        queue = unique("q")
        assert admin.post("/queues", json={"name": queue}).is_success
        running, queued = _admin_task(admin), _admin_task(admin)
        mine = bob.post("/tasks", json={"name": "mine", "project": unique("bob-proj")}).json()
        worker = admin.post("/workers", json={"name": unique("w"), "queues": [queue]}).json()
        for task in (running, queued):
            assert admin.post(f"/tasks/{task['id']}/enqueue", json={"queue": queue}).is_success
        claimed = admin.post(f"/workers/{worker['id']}/claim", json={"timeout": 0})
        assert claimed.json()["id"] == running["id"]
        assert bob.post(f"/tasks/{mine['id']}/enqueue", json={"queue": queue}).is_success
        seen = bob.get(f"/queues/{queue}").json()
        assert [e["task"]["id"] for e in seen["entries"]] == [mine["id"]]
        assert seen["length"] == 2  # (the count is of every entry)
        shown = next(w for w in bob.get("/workers").json()["items"] if w["id"] == worker["id"])
        assert shown["task"] is None
        assert running["name"] not in json.dumps([seen, bob.get("/workers").json()])
        # the admin still sees everything
        assert len(admin.get(f"/queues/{queue}").json()["entries"]) == 2
        listed = admin.get("/workers").json()["items"]
        assert next(w for w in listed if w["id"] == worker["id"])["task"]["id"] == running["id"]


def test_a_registered_worker_stops_taking_tasks_when_its_right_to_serve_ends(
    admin: httpx.Client, server: ServerProcess
) -> None:
    """Serving was checked only at registration: after the queue grant was revoked, and
    after the member was made a viewer, his worker still claimed the admin's tasks (their
    code and real secret values)."""
    with person(server, "member", agent=True) as bob:
        name = bob.get("/auth/me").json()["user"]["name"]
        queue = unique("gq")
        assert admin.post("/queues", json={"name": queue, "access": "granted"}).is_success
        assert admin.put(f"/queues/{queue}/permissions/{name}").status_code == 204
        worker = bob.post("/workers", json={"name": unique("w"), "queues": [queue]})
        assert worker.status_code == 201, worker.text
        wid = worker.json()["id"]
        assert admin.delete(f"/queues/{queue}/permissions/{name}").status_code == 204
        task = _admin_task(admin, hyperparams={"General": {"db.pass": "hunter2"}})
        assert admin.post(f"/tasks/{task['id']}/enqueue", json={"queue": queue}).is_success
        assert_error(bob.post(f"/workers/{wid}/claim", json={"timeout": 0}), 403, "forbidden")
        assert admin.put(f"/queues/{queue}/permissions/{name}").status_code == 204
        assert admin.patch(f"/users/{name}", json={"role": "viewer"}).is_success
        assert_error(bob.post(f"/workers/{wid}/claim", json={"timeout": 0}), 403, "forbidden")
        assert admin.get(f"/tasks/{task['id']}").json()["status"] == "queued"
        assert admin.patch(f"/users/{name}", json={"role": "member"}).is_success
        claimed = bob.post(f"/workers/{wid}/claim", json={"timeout": 0})  # granted again
        assert claimed.status_code == 200 and claimed.json()["id"] == task["id"], claimed.text


def test_a_queue_named_like_another_queues_id_never_takes_its_place(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    """Bob names a queue of his with the id of the admin's queue. A lookup by id or name
    had no order: on PostgreSQL, once the admin's queue row was updated, the admin's
    enqueue by id went to Bob's queue (where Bob's agent would take the task)."""
    theirs = admin.post("/queues", json={"name": unique("aq"), "access": "granted"}).json()
    squat = bob.post("/queues", json={"name": theirs["id"]})
    assert squat.status_code == 201, squat.text
    for access in ("members", "granted", "members", "granted"):  # the row moves (MVCC)
        assert admin.patch(f"/queues/{theirs['name']}", json={"access": access}).is_success
    assert admin.get(f"/queues/{theirs['id']}").json()["id"] == theirs["id"]
    task = _admin_task(admin)
    queued = admin.post(f"/tasks/{task['id']}/enqueue", json={"queue": theirs["id"]}).json()
    assert queued["queue"]["id"] == theirs["id"]
    assert_error(bob.patch(f"/queues/{theirs['id']}", json={"access": "members"}), 403, "forbidden")


def test_a_member_cannot_serve_a_queue_open_to_members_without_a_grant(
    admin: httpx.Client, server: ServerProcess
) -> None:
    """``default`` is open to every member for enqueueing; serving it would hand Bob's agent
    every member's tasks with their code and real secret values, so it needs the queue's
    owner, an admin or a grant."""
    with person(server, "member", agent=True) as bob:
        name = bob.get("/auth/me").json()["user"]["name"]
        assert admin.get("/queues/default").json()["access"] == "members"
        resp = bob.post("/workers", json={"name": unique("w"), "queues": ["default"]})
        assert_error(resp, 403, "forbidden")
        assert admin.put(f"/queues/default/permissions/{name}").status_code == 204
        try:
            resp = bob.post("/workers", json={"name": unique("w"), "queues": ["default"]})
            assert resp.status_code == 201, resp.text
            assert bob.delete(f"/workers/{resp.json()['id']}").status_code == 204
        finally:
            assert admin.delete(f"/queues/default/permissions/{name}").status_code == 204

"""``POST /tasks`` with a final status (a short run in one request), and task answers that
are made from what was written (create, runner status) matching a fresh read."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import httpx
import pytest

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique

Make = Callable[..., dict[str, Any]]
TIMES = ("created", "started", "completed", "last_update")
FINAL = ("completed", "failed", "stopped")


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "name": unique("run"),
        "project": unique("p"),
        "script": {"entry_point": "train.py", "argv": ["db=mysql"]},
        "hyperparams": {"Hydra": {"db": "mysql", "_allow_omegaconf_edit_": "False"}},
        "configuration": {"OmegaConf": {"value": "db: mysql\n", "type": "OmegaConf"}},
        **extra,
    }


def _without(task: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k not in keys}


@pytest.mark.parametrize("status", FINAL)
def test_created_finished_equals_created_running_then_finished(
    api: ApiClient, http: httpx.Client, status: str
) -> None:
    body = _body(status=status, status_message="done in 1 s", status_reason="exit code 0")
    resp = http.post("/tasks", json=body)
    assert resp.status_code == 201, resp.text
    task = resp.json()
    assert task["status"] == status
    assert task["status_message"] == "done in 1 s" and task["status_reason"] == "exit code 0"
    assert task["started"] and task["started"] == task["completed"] == task["created"]
    assert task["queue"] is None and task["worker"] is None and not task["abort_requested"]
    assert api.get_task(body["id"]) == task

    # the same run made the two-request way: created in_progress, then finished
    two = _body(status="in_progress", project=body["project"], name=body["name"])
    api.create_task(two)
    moved = api.set_status(two["id"], status, message="done in 1 s", reason="exit code 0")
    assert _without(moved, "id", *TIMES) == _without(task, "id", *TIMES)
    assert moved["started"] <= moved["completed"]


def test_message_and_reason_are_optional(api: ApiClient, http: httpx.Client) -> None:
    body = _body(status="failed")
    task = http.post("/tasks", json=body).json()
    assert task["status"] == "failed" and task["completed"]
    assert task["status_message"] == "" and task["status_reason"] == ""
    assert api.get_task(body["id"]) == task


def test_retry_answers_the_stored_task(http: httpx.Client) -> None:
    body = _body(status="completed", status_message="ok")
    first = http.post("/tasks", json=body)
    assert first.status_code == 201
    again = http.post("/tasks", json=body)
    assert again.status_code == 200 and again.json() == first.json()
    other = http.post("/tasks", json={**body, "status": "failed", "status_message": "late"})
    assert other.status_code == 200 and other.json() == first.json()  # stored one stays


def test_a_finished_task_takes_its_last_events(api: ApiClient, http: httpx.Client) -> None:
    body = _body(status="completed")
    http.post("/tasks", json=body)
    line = {"type": "console", "stream": "stdout", "text": "last line\n"}
    assert api.post_events(body["id"], "b1", [line]) == {"accepted": 1, "duplicate": False}
    assert api.post_events(body["id"], "b1", [line]) == {"accepted": 0, "duplicate": True}
    items = http.get(f"/tasks/{body['id']}/console").json()["items"]
    assert [(i["seq"], i["text"]) for i in items] == [(0, "last line\n")]


@pytest.mark.parametrize(
    "extra",
    [
        {"status_message": "x"},
        {"status": "draft", "status_reason": "x"},
        {"status": "in_progress", "status_message": "x", "status_reason": "y"},
    ],
)
def test_message_or_reason_without_a_final_status_is_refused(
    http: httpx.Client, extra: dict[str, Any]
) -> None:
    body = _body(**extra)
    err = assert_error(
        http.post("/tasks", json=body),
        422,
        "validation_error",
        "status_message and status_reason",
        "final status",
        extra.get("status", "draft"),
    )
    assert err["details"][0]["field"] == "body"
    assert_error(http.get(f"/tasks/{body['id']}"), 404, "not_found")  # nothing stored


def test_too_long_message_is_refused(http: httpx.Client) -> None:
    body = _body(status="failed", status_message="x" * 10_001)
    assert_error(http.post("/tasks", json=body), 422, "validation_error", "status_message")
    assert_error(http.get(f"/tasks/{body['id']}"), 404, "not_found")


def test_create_answer_is_what_a_read_gives(api: ApiClient, http: httpx.Client) -> None:
    """The create answer is made from the written values, not re-read: it must match."""
    project = api.create_project(unique("p"))
    body = _body(
        status="in_progress",
        tags=["b", "a", "b"],
        comment="c",
        type="testing",
        runtime={"hydra": {"choices": {"db": "mysql"}, "n": 1.5}},
        hyperparams={
            "zeta": {"k": 1, "j": True, "i": 0.25, "gone": None},
            "Alpha": {"x": {"value": "1", "type": "int", "description": "d"}},
            "empty": {},
            "Hydra": {"+a.b": "2", "~c": ""},
        },
        configuration={
            "b": {"value": "x: 1\n"},
            "A": {"value": "y: 2\n", "type": "yaml", "description": "z"},
        },
    )
    body.pop("project")
    body["project_id"] = project["id"]
    resp = http.post("/tasks", json=body)
    assert resp.status_code == 201, resp.text
    task = resp.json()
    assert task == api.get_task(body["id"])
    assert task["tags"] == ["b", "a"] and "empty" not in task["hyperparams"]
    assert list(task["hyperparams"]["zeta"]) == ["k", "j", "i"]  # typed order
    assert task["hyperparams"]["zeta"]["j"]["value"] == "True"


def test_status_answer_is_what_a_read_gives(api: ApiClient, make_task: Make) -> None:
    qname = unique("q")
    api.create_queue(qname)
    t = make_task(hyperparams={"Hydra": {"db": "x"}})
    api.enqueue_task(t["id"], qname)
    w = api.register_worker(unique("w"), [qname])
    claimed = api.claim(w["id"], timeout=5)
    assert claimed is not None
    done = api.set_status(t["id"], "completed", message="ok")
    assert done == api.get_task(t["id"])
    assert done["worker"]["name"] == w["name"] and done["queue"]["name"] == qname
    assert api.set_status(t["id"], "completed") == done  # same state: no-op, same answer

"""Tasks: create (idempotent by id), read, list with filters and paging, patch, delete."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique

Make = Callable[..., dict[str, Any]]

SCRIPT = {
    "entry_point": "train.py",
    "argv": ["db=mysql"],
    "working_dir": "/w",
    "diff": "--- a\n+++ b\n",
    "requirements": {"pip": {"omegaconf": "2.3.0"}},
}


def test_create_and_get_full_object(api: ApiClient) -> None:
    project = unique("demo")
    task = api.create_task(
        {
            "name": "train",
            "project": project,
            "script": SCRIPT,
            "runtime": {"hydra": {"config_name": "config", "choices": {"db": "mysql"}}},
            "tags": ["a", "b", "a"],
            "comment": "first",
            "hyperparams": {"Hydra": {"db": {"value": "mysql"}, "_allow_omegaconf_edit_": "False"}},
            "configuration": {
                "OmegaConf": {"value": "db:\n  driver: mysql\n", "type": "OmegaConf"}
            },
        }
    )
    assert len(task["id"]) == 32 and int(task["id"], 16) >= 0
    assert task["project"]["name"] == project and task["status"] == "draft"
    assert task["user"]["name"] == "admin" and task["parent"] is None
    assert task["tags"] == ["a", "b"] and task["comment"] == "first"
    assert task["script"]["argv"] == ["db=mysql"] and task["script"]["repository"] is None
    assert task["created"].endswith("Z") and task["started"] is None
    assert task["hyperparams"]["Hydra"]["db"] == {
        "value": "mysql",
        "type": "str",
        "description": "",
    }
    assert list(task["hyperparams"]["Hydra"]) == ["db", "_allow_omegaconf_edit_"]
    assert task["configuration"]["OmegaConf"]["value"] == "db:\n  driver: mysql\n"
    assert api.get_task(task["id"]) == task
    assert task["runtime"]["hydra"]["choices"] == {"db": "mysql"}


def test_create_with_client_id_is_idempotent(api: ApiClient, http: httpx.Client) -> None:
    tid = uuid.uuid4().hex
    body = {"id": tid, "name": "t", "project": unique("p"), "status": "in_progress"}
    first = http.post("/tasks", json=body)
    assert first.status_code == 201 and first.json()["status"] == "in_progress"
    assert first.json()["started"] is not None
    again = http.post("/tasks", json={**body, "name": "other"})
    assert again.status_code == 200 and again.json() == first.json()


def test_create_bad_bodies(http: httpx.Client) -> None:
    err = assert_error(http.post("/tasks", json={"project": "p"}), 422, "validation_error")
    assert {"field": "body.name", "message": "Field required"} in err["details"]
    assert_error(http.post("/tasks", json={"name": "x"}), 422, "validation_error", "project")
    for status in ("queued", "published", "running"):  # final ones are allowed (finished run)
        assert_error(
            http.post("/tasks", json={"name": "x", "project": "p", "status": status}),
            422,
            "validation_error",
            "status",
        )
    assert_error(
        http.post("/tasks", json={"name": "x", "project": "p", "id": "not-hex"}),
        422,
        "validation_error",
        "id",
    )
    assert_error(
        http.post("/tasks", json={"name": "x", "project": "p", "colour": 1}),
        422,
        "validation_error",
        "colour",
    )
    assert_error(
        http.post("/tasks", json={"name": "x", "project_id": "0" * 32}),
        404,
        "not_found",
        "project",
        "0" * 32,
    )
    assert_error(
        http.post("/tasks", json={"name": "x", "project": "p", "parent": "f" * 32}),
        404,
        "not_found",
        "task",
        "f" * 32,
    )
    assert_error(
        http.post("/tasks", content=b"{nope", headers={"content-type": "application/json"}),
        400,
        "bad_request",
        "JSON",
    )


def test_get_unknown_task(http: httpx.Client) -> None:
    assert_error(http.get("/tasks/" + "a" * 32), 404, "not_found", "task " + "a" * 32)


def test_patch(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task(script=SCRIPT)
    out = api.update_task(
        t["id"], name="renamed", comment="c", tags=["x"], script={"commit": "abc"}
    )
    assert out["name"] == "renamed" and out["tags"] == ["x"] and out["comment"] == "c"
    assert out["script"]["commit"] == "abc" and out["script"]["argv"] == ["db=mysql"]
    assert out["last_update"] >= t["last_update"]
    assert_error(
        http.patch(f"/tasks/{t['id']}", json={"status": "completed"}),
        422,
        "validation_error",
        "status",
    )
    assert_error(http.patch(f"/tasks/{t['id']}", json={"tags": "x"}), 422, "validation_error")
    assert_error(http.patch("/tasks/" + "b" * 32, json={"name": "x"}), 404, "not_found")


def test_patch_script_only_in_draft_or_running(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    api.update_task(t["id"], runtime={"hydra": {"version": "1.3.2"}})
    api.set_status(t["id"], "completed")
    assert_error(
        http.patch(f"/tasks/{t['id']}", json={"script": {"commit": "x"}}),
        409,
        "conflict",
        "completed",
    )
    assert api.update_task(t["id"], comment="still ok")["comment"] == "still ok"
    api.publish_task(t["id"])
    assert_error(http.patch(f"/tasks/{t['id']}", json={"name": "x"}), 409, "conflict", "published")


def test_delete(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    child = api.clone_task(t["id"])
    assert http.delete(f"/tasks/{t['id']}").status_code == 204
    assert_error(http.get(f"/tasks/{t['id']}"), 404, "not_found")
    assert api.get_task(child["id"])["parent"] is None
    q = make_task()
    api.enqueue_task(q["id"], unique_queue(api))
    assert_error(http.delete(f"/tasks/{q['id']}"), 409, "conflict", "queued")
    assert_error(http.delete(f"/tasks/{t['id']}"), 404, "not_found")


def unique_queue(api: ApiClient) -> str:
    name = unique("q")
    api.create_queue(name)
    return name


def test_list_filters_paging_order(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    project = unique("listing")
    made = [
        make_task(
            name=f"run-{i}",
            project=project,
            tags=["even" if i % 2 == 0 else "odd"],
            comment="needle" if i == 3 else "",
            hyperparams={"Hydra": {"db": "mysql" if i < 2 else "postgresql", "lr": str(i)}},
        )
        for i in range(5)
    ]
    page = api.list_tasks(project=project, limit=2)
    assert page["total"] == 5 and [t["name"] for t in page["items"]] == ["run-4", "run-3"]
    page2 = api.list_tasks(project=project, limit=2, offset=2)
    assert [t["name"] for t in page2["items"]] == ["run-2", "run-1"]
    item = page["items"][0]
    assert "hyperparams" not in item and "configuration" not in item
    assert "diff" not in item["script"] and "requirements" not in item["script"]
    by_name = api.list_tasks(project=project, order_by="name")
    assert [t["name"] for t in by_name["items"]] == [f"run-{i}" for i in range(5)]
    assert api.list_tasks(project_id=made[0]["project"]["id"])["total"] == 5
    assert api.list_tasks(project=project, tag="even")["total"] == 3
    assert api.list_tasks(project=project, q="needle")["items"][0]["name"] == "run-3"
    assert api.list_tasks(project=project, name="run-1")["total"] == 1
    mysql = api.list_tasks(project=project, param="Hydra/db=mysql", order_by="name")
    assert [t["name"] for t in mysql["items"]] == ["run-0", "run-1"]
    both = api.list_tasks(project=project, param=["Hydra/db=postgresql", "Hydra/lr=4"])
    assert [t["name"] for t in both["items"]] == ["run-4"]
    with_params = api.list_tasks(project=project, params="Hydra/db,Hydra/lr", order_by="name")
    assert with_params["items"][0]["params"] == {"Hydra/db": "mysql", "Hydra/lr": "0"}
    api.set_status(made[0]["id"], "in_progress")
    assert [t["name"] for t in api.list_tasks(project=project, status="in_progress")["items"]] == [
        "run-0"
    ]
    assert api.list_tasks(project=project, status=["in_progress", "draft"])["total"] == 5
    api.archive_task(made[1]["id"])
    assert api.list_tasks(project=project)["total"] == 4
    assert api.list_tasks(project=project, archived=True)["total"] == 1
    clone = api.clone_task(made[2]["id"])
    assert [t["id"] for t in api.list_tasks(parent=made[2]["id"])["items"]] == [clone["id"]]


def test_list_bad_query_values(http: httpx.Client) -> None:
    assert_error(http.get("/tasks", params={"order_by": "colour"}), 400, "bad_request", "order_by")
    assert_error(http.get("/tasks", params={"limit": 5000}), 400, "bad_request", "limit")
    assert_error(http.get("/tasks", params={"offset": -1}), 400, "bad_request", "offset")
    assert_error(
        http.get("/tasks", params={"param": "nosection=1"}), 400, "bad_request", "Section/name"
    )
    assert_error(http.get("/tasks", params={"param": "Hydra/db"}), 400, "bad_request")
    assert_error(http.get("/tasks", params={"metrics": "loss"}), 400, "bad_request")
    assert_error(http.get("/tasks", params={"archived": "maybe"}), 400, "bad_request", "archived")


def test_list_metrics_column(api: ApiClient, make_task: Make) -> None:
    t = make_task()
    api.post_events(
        t["id"],
        unique("b"),
        [
            {
                "type": "scalar",
                "metric": "loss",
                "variant": "train",
                "iter": i,
                "value": 1.0 / (i + 1),
            }
            for i in range(3)
        ],
    )
    items = api.list_tasks(project=t["project"]["name"], metrics="loss/train,acc/val")["items"]
    assert items[0]["last_metrics"] == {"loss/train": 1.0 / 3}


def test_param_filter_is_exact_for_short_and_long_values(api: ApiClient) -> None:
    project = unique("proj")
    long_a, long_b = "x" * 250 + "a", "x" * 250 + "b"  # same 200-character prefix
    values = {"short": "0.1", "longer": "0.10", "long_a": long_a, "long_b": long_b}
    for name, value in values.items():
        api.create_task(
            {"name": name, "project": project, "hyperparams": {"Hydra": {"lr": {"value": value}}}}
        )
    for name, value in values.items():
        got = api.list_tasks(project=project, param=f"Hydra/lr={value}")
        assert [t["name"] for t in got["items"]] == [name] and got["total"] == 1
    assert api.list_tasks(project=project, param="Hydra/lr=0.")["total"] == 0
    assert api.list_tasks(project=project, param="Hydra/lr=" + "x" * 250)["total"] == 0

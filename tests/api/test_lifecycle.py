"""The task state machine: actions, illegal changes (409 naming both states), clone."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique

Make = Callable[..., dict[str, Any]]


def test_enqueue_dequeue(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    q = unique("q")
    api.create_queue(q)
    out = api.enqueue_task(t["id"], q)
    assert out["status"] == "queued" and out["queue"]["name"] == q
    entries = api.get_queue(q)["entries"]
    assert [e["task"] for e in entries] == [{"id": t["id"], "name": t["name"]}]
    err = assert_error(
        http.post(f"/tasks/{t['id']}/enqueue", json={"queue": q}), 409, "invalid_state"
    )
    assert err["message"] == f"task {t['id']} is queued; enqueue needs draft"
    out = api.dequeue_task(t["id"])
    assert out["status"] == "draft" and out["queue"] is None
    assert api.get_queue(q)["entries"] == []
    assert_error(http.post(f"/tasks/{t['id']}/dequeue"), 409, "invalid_state", "draft", "queued")
    assert_error(
        http.post(f"/tasks/{t['id']}/enqueue", json={"queue": "no-such-q"}),
        404,
        "not_found",
        "queue no-such-q",
    )
    assert api.get_task(t["id"])["status"] == "draft"  # nothing changed by the failed call


def test_runner_status_transitions(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    assert_error(
        http.post(f"/tasks/{t['id']}/status", json={"status": "completed"}),
        409,
        "invalid_state",
        "draft",
        "in_progress",
    )
    run = api.set_status(t["id"], "in_progress")
    assert run["status"] == "in_progress" and run["started"]
    assert api.set_status(t["id"], "in_progress")["started"] == run["started"]  # no-op
    before = http.get(f"/projects/{t['project']['id']}").json()["last_activity"]
    done = api.set_status(t["id"], "failed", message="boom", reason="exit code 1")
    after = http.get(f"/projects/{t['project']['id']}").json()["last_activity"]
    assert after > before  # a run ending is project activity
    assert done["status"] == "failed" and done["completed"]
    assert done["status_message"] == "boom" and done["status_reason"] == "exit code 1"
    assert_error(
        http.post(f"/tasks/{t['id']}/status", json={"status": "in_progress"}),
        409,
        "invalid_state",
        "failed",
    )
    assert_error(
        http.post(f"/tasks/{t['id']}/status", json={"status": "finished"}),
        422,
        "validation_error",
        "status",
    )


def test_abort_paths(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    queued = make_task()
    api.enqueue_task(queued["id"])
    out = api.abort_task(queued["id"], reason="not needed")
    assert out["status"] == "stopped" and out["status_reason"] == "not needed"
    local = make_task(status="in_progress")
    assert api.abort_task(local["id"])["status"] == "stopped"  # no worker holds it
    assert_error(
        http.post(f"/tasks/{local['id']}/abort", json={}),
        409,
        "invalid_state",
        "stopped",
        "queued or in_progress",
    )


def test_reset_clears_outputs(
    api: ApiClient, http: httpx.Client, make_task: Make, tmp_path: Any
) -> None:
    t = make_task(status="in_progress", hyperparams={"Hydra": {"db": "a"}})
    api.post_events(
        t["id"],
        unique("b"),
        [
            {"type": "scalar", "metric": "m", "variant": "v", "iter": 0, "value": 1.0},
            {"type": "console", "text": "hi\n"},
            {"type": "text", "title": "n", "text": "x"},
        ],
    )
    f = tmp_path / "a.bin"
    f.write_bytes(b"123")
    api.upload_artifact(t["id"], "a", f)
    assert_error(http.post(f"/tasks/{t['id']}/reset"), 409, "invalid_state", "in_progress")
    api.set_status(t["id"], "completed")
    out = api.reset_task(t["id"])
    assert out["status"] == "draft" and out["started"] is None and out["completed"] is None
    assert out["hyperparams"] == {"Hydra": {"db": {"value": "a", "type": "str", "description": ""}}}
    assert api.get_scalars(t["id"]) == {} and api.get_console(t["id"])["items"] == []
    assert api.list_artifacts(t["id"])["items"] == []
    assert http.get(f"/tasks/{t['id']}/texts").json() == {"items": []}
    # console numbering starts again
    api.post_events(t["id"], unique("b"), [{"type": "console", "text": "again\n"}])
    assert [i["seq"] for i in api.get_console(t["id"])["items"]] == [0]


def test_publish_locks(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    assert_error(
        http.post(f"/tasks/{t['id']}/publish"),
        409,
        "invalid_state",
        "draft",
        "completed or failed or stopped",
    )
    api.set_status(t["id"], "in_progress")
    api.set_status(t["id"], "completed")
    assert api.publish_task(t["id"])["status"] == "published"
    assert_error(http.post(f"/tasks/{t['id']}/reset"), 409, "invalid_state", "published")
    assert_error(http.post(f"/tasks/{t['id']}/enqueue", json={}), 409, "invalid_state")
    assert_error(
        http.patch(f"/tasks/{t['id']}/hyperparams", json={"X": {"a": "1"}}),
        409,
        "conflict",
        "published",
    )


def test_archive(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    assert api.archive_task(t["id"])["archived"] is True
    assert api.archive_task(t["id"], False)["archived"] is False
    api.set_status(t["id"], "in_progress")
    assert_error(
        http.post(f"/tasks/{t['id']}/archive", json={"archived": True}),
        409,
        "invalid_state",
        "in_progress",
    )
    assert_error(
        http.post(f"/tasks/{t['id']}/archive", json={"archived": "yes please"}),
        422,
        "validation_error",
    )


@pytest.mark.parametrize("final", ["completed", "failed", "stopped"])
def test_clone_semantics(api: ApiClient, make_task: Make, final: str) -> None:
    src = make_task(
        status="in_progress",
        script={"entry_point": "a.py", "argv": ["x=1"]},
        runtime={"hydra": {"choices": {"db": "mysql"}}},
        tags=["t"],
        hyperparams={"Hydra": {"x": "1", "+y": "2"}},
        configuration={"OmegaConf": {"value": "x: 1\n", "type": "OmegaConf"}},
    )
    api.post_events(
        src["id"],
        unique("b"),
        [{"type": "scalar", "metric": "m", "variant": "v", "iter": 0, "value": 1.0}],
    )
    api.set_status(src["id"], final)
    c = api.clone_task(src["id"], name="try 2", comment="edited")
    assert c["status"] == "draft" and c["parent"] == src["id"] and c["id"] != src["id"]
    assert c["name"] == "try 2" and c["comment"] == "edited"
    assert c["script"] == api.get_task(src["id"])["script"]
    assert c["runtime"] == src["runtime"] and c["tags"] == ["t"]
    assert c["hyperparams"] == api.get_task(src["id"])["hyperparams"]
    assert list(c["hyperparams"]["Hydra"]) == ["x", "+y"]
    assert c["configuration"] == api.get_task(src["id"])["configuration"]
    assert c["started"] is None and c["completed"] is None
    assert api.get_scalars(c["id"]) == {}
    # editing the clone leaves the source alone
    api.patch_hyperparams(c["id"], {"Hydra": {"x": "2"}})
    assert api.get_hyperparams(src["id"])["Hydra"]["x"]["value"] == "1"
    other = api.clone_task(src["id"], project=unique("elsewhere"))
    assert other["project"]["name"] != src["project"]["name"]
    assert other["name"] == f"{src['name']} (clone)"


def test_actions_on_unknown_task(http: httpx.Client) -> None:
    missing = "d" * 32
    for action in ("clone", "enqueue", "dequeue", "abort", "reset", "publish", "archive"):
        assert_error(http.post(f"/tasks/{missing}/{action}", json={}), 404, "not_found", missing)
    assert_error(
        http.post(f"/tasks/{missing}/status", json={"status": "in_progress"}), 404, "not_found"
    )

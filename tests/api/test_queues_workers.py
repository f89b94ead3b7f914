"""Queues, workers, long-poll claims (atomic), heartbeats, aborts and the lease sweeper."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique
from tests.support.servers import ServerProcess, running_server

Make = Callable[..., dict[str, Any]]


def test_queue_crud(api: ApiClient, http: httpx.Client) -> None:
    name = unique("q")
    q = api.create_queue(name)
    assert q["name"] == name and q["length"] == 0 and q["entries"] == []
    assert api.get_queue(q["id"])["name"] == name
    assert name in [x["name"] for x in api.list_queues()["items"]]
    assert_error(http.post("/queues", json={"name": name}), 409, "conflict", name)
    assert_error(http.post("/queues", json={"name": ""}), 422, "validation_error", "name")
    assert http.delete(f"/queues/{name}").status_code == 204
    assert_error(http.get(f"/queues/{name}"), 404, "not_found", f"queue {name}")
    assert_error(http.delete(f"/queues/{name}"), 404, "not_found")


def test_queue_not_empty_cannot_go(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    name = unique("q")
    api.create_queue(name)
    t = make_task()
    api.enqueue_task(t["id"], name)
    assert api.get_queue(name)["length"] == 1
    assert_error(http.delete(f"/queues/{name}"), 409, "conflict", "not empty")
    api.dequeue_task(t["id"])
    assert http.delete(f"/queues/{name}").status_code == 204


def test_worker_register_claim_run(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    qname = unique("q")
    api.create_queue(qname)
    w = api.register_worker(unique("w"), [qname])
    assert w["queues"] == [qname] and w["task"] is None and w["registered"]
    assert api.claim(w["id"], timeout=0) is None  # 204: nothing queued
    t = make_task()
    api.enqueue_task(t["id"], qname)
    got = api.claim(w["id"], timeout=5)
    assert got is not None and got["id"] == t["id"]
    assert got["status"] == "in_progress" and got["worker"]["id"] == w["id"]
    assert got["hyperparams"] == {} and "configuration" in got
    assert api.get_queue(qname)["entries"] == []
    listed = [x for x in api.list_workers()["items"] if x["id"] == w["id"]]
    assert listed[0]["task"] == {"id": t["id"], "name": t["name"]}
    assert api.heartbeat(w["id"], t["id"]) == {"abort": []}
    assert api.abort_task(t["id"])["abort_requested"] is True
    assert api.get_task(t["id"])["status"] == "in_progress"
    assert api.heartbeat(w["id"], t["id"]) == {"abort": [t["id"]]}
    assert api.set_status(t["id"], "stopped")["status"] == "stopped"
    assert api.heartbeat(w["id"], t["id"]) == {"abort": [t["id"]]}  # not running any more
    assert api.heartbeat(w["id"]) == {"abort": []}
    assert http.delete(f"/workers/{w['id']}").status_code == 204
    assert_error(http.post(f"/workers/{w['id']}/heartbeat", json={}), 404, "not_found", "worker")
    assert_error(http.post(f"/workers/{w['id']}/claim", json={"timeout": 0}), 404, "not_found")


def test_claim_long_poll_wakes_on_enqueue(
    server: ServerProcess, api: ApiClient, make_task: Make
) -> None:
    qname = unique("q")
    api.create_queue(qname)
    w = api.register_worker(unique("w"), [qname])
    t = make_task()

    def wait_for_task() -> dict[str, Any] | None:
        with server.client() as c:
            return c.claim(w["id"], timeout=20)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        fut = pool.submit(wait_for_task)
        time.sleep(1.0)
        assert not fut.done()
        api.enqueue_task(t["id"], qname)
        got = fut.result(timeout=15)
        elapsed = time.monotonic() - started
    assert got is not None and got["id"] == t["id"]
    assert elapsed < 3.0  # woken by the enqueue, not by the 20 s timeout


def test_claim_times_out_with_204(http: httpx.Client, api: ApiClient) -> None:
    qname = unique("q")
    api.create_queue(qname)
    w = api.register_worker(unique("w"), [qname])
    started = time.monotonic()
    resp = http.post(f"/workers/{w['id']}/claim", json={"timeout": 1})
    assert resp.status_code == 204 and 0.9 < time.monotonic() - started < 5
    assert_error(
        http.post(f"/workers/{w['id']}/claim", json={"timeout": 61}),
        422,
        "validation_error",
        "timeout",
    )


def test_each_task_claimed_once(server: ServerProcess, api: ApiClient, make_task: Make) -> None:
    qname = unique("q")
    api.create_queue(qname)
    tasks = [make_task() for _ in range(12)]
    for t in tasks:
        api.enqueue_task(t["id"], qname)
    workers = [api.register_worker(unique("w"), [qname]) for _ in range(4)]

    def drain(worker_id: str) -> list[str]:
        got = []
        with server.client() as c:
            while (task := c.claim(worker_id, timeout=0)) is not None:
                got.append(task["id"])
        return got

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, [w["id"] for w in workers]))
    claimed = [tid for r in results for tid in r]
    assert sorted(claimed) == sorted(t["id"] for t in tasks)  # all, and none twice


def test_queue_order_priority_then_age(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    qa, qb = unique("qa"), unique("qb")
    api.create_queue(qa)
    api.create_queue(qb)
    first, second, urgent, other = (make_task() for _ in range(4))
    api.enqueue_task(first["id"], qa)
    api.enqueue_task(second["id"], qa)
    http.post(f"/tasks/{urgent['id']}/enqueue", json={"queue": qa, "priority": 5})
    api.enqueue_task(other["id"], qb)
    w = api.register_worker(unique("w"), [qb, qa])
    order = [api.claim(w["id"], timeout=0)["id"] for _ in range(4)]  # type: ignore[index]
    assert order == [other["id"], urgent["id"], first["id"], second["id"]]


def test_register_bad_and_replace(api: ApiClient, http: httpx.Client) -> None:
    assert_error(
        http.post("/workers", json={"name": unique("w"), "queues": ["no-such-q"]}),
        404,
        "not_found",
        "queue no-such-q",
    )
    assert_error(
        http.post("/workers", json={"queues": ["default"]}), 422, "validation_error", "name"
    )
    assert_error(http.post("/workers", json={"name": "w", "queues": []}), 422, "validation_error")
    name = unique("w")
    one = api.register_worker(name, ["default"])
    two = api.register_worker(name, ["default"])
    assert one["id"] != two["id"]
    assert [w["id"] for w in api.list_workers()["items"] if w["name"] == name] == [two["id"]]


def test_lease_expiry_fails_task(tmp_path: Path) -> None:
    servers = running_server(
        tmp_path, extra_args=["--lease-seconds", "1", "--sweep-seconds", "0.2"]
    )
    srv = next(servers)
    try:
        with srv.client() as api:
            t = api.create_task({"name": "lost", "project": "p"})
            w = api.register_worker("gpu-box", ["default"])
            api.enqueue_task(t["id"])
            assert api.claim(w["id"], timeout=5)["id"] == t["id"]  # type: ignore[index]
            for _ in range(4):  # heartbeats keep it alive past the lease
                time.sleep(0.4)
                assert api.heartbeat(w["id"], t["id"]) == {"abort": []}
            assert api.get_task(t["id"])["status"] == "in_progress"
            deadline = time.monotonic() + 10
            while api.get_task(t["id"])["status"] == "in_progress":
                assert time.monotonic() < deadline, "sweeper did not fail the task"
                time.sleep(0.2)
            out = api.get_task(t["id"])
            assert out["status"] == "failed"
            assert out["status_reason"] == "worker gpu-box lost: no heartbeat for 1 s"
            assert api.heartbeat(w["id"], t["id"]) == {"abort": [t["id"]]}
    finally:
        servers.close()


def test_unregister_fails_tasks_still_held(api: ApiClient, make_task: Make) -> None:
    qname = unique("q")
    api.create_queue(qname)
    name = unique("w")
    w = api.register_worker(name, [qname])
    t = make_task()
    api.enqueue_task(t["id"], qname)
    assert api.claim(w["id"], timeout=5)["id"] == t["id"]  # type: ignore[index]
    api.unregister_worker(w["id"])
    out = api.get_task(t["id"])
    assert out["status"] == "failed"
    assert out["status_reason"] == f"worker {name} unregistered while running it"


def test_hung_up_claim_takes_nothing(
    server: ServerProcess, api: ApiClient, make_task: Make
) -> None:
    qname = unique("q")
    api.create_queue(qname)
    w = api.register_worker(unique("w"), [qname])
    with server.client() as c:
        try:  # the worker gives up after 1 s of a 10 s long poll
            c.request(
                "POST",
                f"/workers/{w['id']}/claim",
                json={"timeout": 10},
                timeout=httpx.Timeout(1.0),
            )
        except Exception:  # noqa: BLE001 - the client-side timeout is the point
            pass
    time.sleep(0.5)
    t = make_task()
    api.enqueue_task(t["id"], qname)
    time.sleep(1.5)
    assert api.get_task(t["id"])["status"] == "queued"
    other = api.register_worker(unique("w"), [qname])
    assert api.claim(other["id"], timeout=2)["id"] == t["id"]  # type: ignore[index]

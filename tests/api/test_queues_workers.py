"""Queues, workers, long-poll claims (atomic), heartbeats, aborts and the lease sweeper."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique
from tests.support.servers import ServerProcess, restart_server, running_server

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


def test_queue_lost_worker_policy(api: ApiClient, http: httpx.Client) -> None:
    name = unique("q")
    q = api.create_queue(name, lost_worker_policy="requeue", lost_worker_retries=2)
    assert (q["lost_worker_policy"], q["lost_worker_retries"]) == ("requeue", 2)
    plain = api.create_queue(unique("q"))
    assert (plain["lost_worker_policy"], plain["lost_worker_retries"]) == ("fail", 0)
    listed = next(x for x in api.list_queues()["items"] if x["name"] == name)
    assert listed["lost_worker_policy"] == "requeue"
    changed = api.update_queue(name, lost_worker_retries=5)
    assert (changed["lost_worker_policy"], changed["lost_worker_retries"]) == ("requeue", 5)
    assert api.update_queue(q["id"], lost_worker_policy="fail")["lost_worker_policy"] == "fail"
    assert api.get_queue(name)["lost_worker_retries"] == 5
    for body, field in (
        ({"lost_worker_policy": "retry"}, "lost_worker_policy"),
        ({"lost_worker_retries": -1}, "lost_worker_retries"),
        ({"lost_worker_retries": 101}, "lost_worker_retries"),
        ({"lost_worker_retries": "many"}, "lost_worker_retries"),
        ({"name": "renamed"}, "name"),
    ):
        assert_error(http.patch(f"/queues/{name}", json=body), 422, "validation_error", field)
    assert_error(
        http.post("/queues", json={"name": unique("q"), "lost_worker_policy": "ignore"}),
        422,
        "validation_error",
        "lost_worker_policy",
    )
    assert_error(http.patch("/queues/no-such-q", json={"lost_worker_retries": 1}), 404, "not_found")


def _wait(probe: Callable[[], Any], what: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def test_workers_gone_too_long_leave_the_list(tmp_path: Path) -> None:
    servers = running_server(
        tmp_path,
        extra_args=[
            "--worker-gone-seconds",
            "1.5",
            "--sweep-seconds",
            "0.2",
            "--lease-seconds",
            "1",  # no sweep in the first lease after a start
        ],
    )
    srv = next(servers)
    try:
        with srv.client() as api:
            gone = api.register_worker("gone", ["default"])
            alive = api.register_worker("alive", ["default"])

            def names() -> set[str]:
                return {w["name"] for w in api.list_workers()["items"]}

            started = time.monotonic()
            while "gone" in names():
                assert time.monotonic() - started < 10, "the silent worker is still listed"
                api.heartbeat(alive["id"])
                time.sleep(0.2)
            assert time.monotonic() - started > 1.0  # not before its time
            assert names() == {"alive"}
            assert_error(
                httpx.post(
                    f"{srv.url}/api/v1/workers/{gone['id']}/heartbeat",
                    json={},
                    auth=(srv.access_key, srv.secret_key),
                ),
                404,
                "not_found",
            )
        assert "worker gone removed: no heartbeat for over 1.5 s" in srv.log()
    finally:
        servers.close()


def test_lost_worker_task_is_requeued_then_failed_by_policy(tmp_path: Path) -> None:
    servers = running_server(
        tmp_path, extra_args=["--lease-seconds", "1", "--sweep-seconds", "0.2"]
    )
    srv = next(servers)
    try:
        with srv.client() as api:
            api.create_queue("retry", lost_worker_policy="requeue", lost_worker_retries=1)
            t = api.create_task({"name": "lost twice", "project": "p"})
            later = api.create_task({"name": "enqueued later", "project": "p"})
            for task in (t, later):
                api.request(
                    "POST", f"/tasks/{task['id']}/enqueue", json={"queue": "retry", "priority": 3}
                )
            one = api.register_worker("box-1", ["retry"])
            assert api.claim(one["id"], timeout=5)["id"] == t["id"]  # type: ignore[index]
            scalars = [
                {"type": "scalar", "metric": "loss", "variant": "train", "iter": i, "value": 1.0}
                for i in range(3)
            ]
            console = [{"type": "console", "stream": "stdout", "text": "epoch 1\n"}]
            api.post_events(t["id"], "attempt-1", scalars + console)
            assert api.get_task(t["id"])["attempt"] == 1

            queued = _wait(
                lambda: (x := api.get_task(t["id"]))["status"] == "queued" and x, "requeue"
            )
            reason = "worker box-1 lost: no heartbeat for 1 s; requeued, attempt 2 of 2"
            assert queued["status_reason"] == reason and queued["worker"] is None
            entries = api.get_queue("retry")["entries"]
            assert [(e["task"]["id"], e["priority"]) for e in entries] == [
                (t["id"], 3),
                (later["id"], 3),
            ]  # back where it stood: before the task enqueued after it
            assert api.get_scalars(t["id"]) == {}  # the lost attempt's points are dropped
            lines = [c["text"] for c in api.get_console(t["id"])["items"]]
            assert lines[0] == "epoch 1\n"  # its console is kept, the boundary marked
            assert lines[1].startswith(f"[hydratrack server] {reason}")
            assert api.heartbeat(one["id"], t["id"]) == {"abort": [t["id"]]}

            two = api.register_worker("box-2", ["retry"])
            got = api.claim(two["id"], timeout=5)
            assert got is not None and got["id"] == t["id"] and got["attempt"] == 2
            assert got["status_reason"] == reason  # still says it is the second attempt
            api.post_events(t["id"], "attempt-1", scalars)  # a late retry of attempt 1: no-op
            failed = _wait(lambda: (x := api.get_task(t["id"]))["status"] == "failed" and x, "fail")
            assert failed["status_reason"] == (
                "worker box-2 lost: no heartbeat for 1 s; failed after 2 attempts"
            )
            assert api.get_scalars(t["id"]) == {}
            assert api.get_queue("retry")["entries"][0]["task"]["id"] == later["id"]
        assert f"task {t['id']} re-queued: {reason}" in srv.log()
    finally:
        servers.close()


def test_a_restarted_server_gives_agents_a_lease_to_come_back(tmp_path: Path) -> None:
    args = ["--lease-seconds", "2", "--sweep-seconds", "0.2"]
    servers = running_server(tmp_path, extra_args=args)
    srv = next(servers)
    again = None
    try:
        with srv.client() as api:
            t = api.create_task({"name": "survives a restart", "project": "p"})
            w = api.register_worker("patient", ["default"])
            api.enqueue_task(t["id"])
            assert api.claim(w["id"], timeout=5)["id"] == t["id"]  # type: ignore[index]
        srv.proc.kill()  # SIGKILL: down longer than the lease
        srv.proc.wait(10)
        time.sleep(2.5)
        again = restart_server(srv, extra_args=args)
        with again.client() as api:
            time.sleep(1.0)  # five sweeps: the lease ran out while the server was down
            assert api.get_task(t["id"])["status"] == "in_progress"
            assert api.heartbeat(w["id"], t["id"]) == {"abort": []}  # the agent is back
            assert api.set_status(t["id"], "completed")["status"] == "completed"
    finally:
        if again is not None:
            again.stop()
        servers.close()

"""``POST /tasks/{id}/status`` with ``ended``: a final status replayed from a spool keeps
the run's real end time (never a time in the future)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import unique


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _create(api: ApiClient) -> str:
    tid = uuid.uuid4().hex
    api.create_task(
        {"id": tid, "name": unique("run"), "project": unique("p"), "status": "in_progress"}
    )
    return tid


def test_final_status_keeps_the_given_end_time(api: ApiClient) -> None:
    tid = _create(api)
    ended = time.time() - 3600  # an hour ago (before the replayed create: started follows)
    task = api.set_status(tid, "completed", ended=ended)
    assert abs(_epoch(task["completed"]) - ended) < 0.01
    assert _epoch(task["started"]) <= _epoch(task["completed"])
    assert api.get_task(tid)["completed"] == task["completed"]


def test_end_time_in_the_future_is_now(api: ApiClient) -> None:
    tid = _create(api)
    before = time.time()
    task = api.set_status(tid, "failed", ended=before + 10**6)
    assert before - 1 <= _epoch(task["completed"]) <= time.time() + 1


def test_bad_end_time_is_refused(api: ApiClient, http: httpx.Client) -> None:
    tid = _create(api)
    for bad in (-1, "soon", 1e20):
        r = http.post(f"/tasks/{tid}/status", json={"status": "completed", "ended": bad})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"]

"""The sender's planning step (``next_op``), without threads: what goes out next, in
which order, for the live sender and the spool alike."""

from __future__ import annotations

import collections
from typing import Any

from hydratrack.sdk.sender import next_op

Op = dict[str, Any]


def plan(ops: list[Op], events: list[tuple[Any, ...]], max_batch: int = 3) -> list[Op]:
    q, ev = collections.deque(ops), collections.deque(events)
    out = []
    while (op := next_op(q, ev, "t" * 32, max_batch)) is not None:
        out.append(op)
    assert not q and not ev
    return out


def pt(i: int) -> tuple[Any, ...]:
    return ("scalar", "loss", "train", i, float(i), 1.0)


def test_final_status_comes_after_every_event_reported_before_it() -> None:
    status = {"op": "status", "status": "completed", "after_events": True}
    out = plan([{"op": "create_task", "body": {}}, status], [pt(i) for i in range(7)])
    assert [o["op"] for o in out] == ["create_task", "events", "events", "events", "status"]
    iters = [i for o in out if o["op"] == "events" for i in o["events"][0]["iters"]]
    assert iters == list(range(7))  # once each, in order
    assert len({o["batch_id"] for o in out if o["op"] == "events"}) == 3


def test_ops_without_after_events_go_before_waiting_events() -> None:
    out = plan([{"op": "update_task", "fields": {}}], [pt(0)])
    assert [o["op"] for o in out] == ["update_task", "events"]


def test_nothing_queued_plans_nothing() -> None:
    assert plan([], []) == []

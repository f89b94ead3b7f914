"""Events of a run: scalars, console lines, text reports; batch ingest and reads.

Scalar points are stored by ``scalars.py`` (series, rollup, summaries).

Ingest is one transaction per batch with bulk inserts, idempotent by ``batch_id``.
Console lines get increasing ``seq`` numbers per task from a counter on the task row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hydratrack.server.errors import Conflict
from hydratrack.server.store import bulk
from hydratrack.server.store import scalars as scalar_store
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.clock import utcnow
from hydratrack.server.store.models import console, event_batches, metric_summaries, texts
from hydratrack.status import TaskStatus

FINAL_FLUSH_SECONDS = 60


def _check_accepting(row: Any) -> None:
    if row.status in (TaskStatus.DRAFT.value, TaskStatus.IN_PROGRESS.value):
        return
    ended = row.completed
    if (
        row.status
        in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value, TaskStatus.STOPPED.value)
        and ended is not None
    ):
        if utcnow() - ended <= dt.timedelta(seconds=FINAL_FLUSH_SECONDS):
            return
    raise Conflict(
        f"task {row.id} is {row.status}; events are accepted in draft or "
        "in_progress (or within 60 s after it ended)"
    )


def ingest(
    conn: Connection, task_id: str, batch_id: str, events: list[dict[str, Any]]
) -> int | None:
    """Store a batch; the number of records accepted (each point of a ``scalars`` event
    counts), or None when the batch id was seen before."""
    row = tasks_repo.lock_row(conn, task_id)
    count = sum(len(e["iters"]) if e["type"] == "scalars" else 1 for e in events)
    if not bulk.insert_new(
        conn,
        event_batches,
        {"task_id": task_id, "batch_id": batch_id, "accepted": count, "created": utcnow()},
    ):
        return None  # seen before
    _check_accepting(row)  # (raising rolls the batch id back)
    series = scalar_store.group(events)
    lines = [e for e in events if e["type"] == "console"]
    tx = [e for e in events if e["type"] == "text"]
    if series:
        scalar_store.store(conn, task_id, series)
    values: dict[str, Any] = {}
    if lines:  # the row is locked: its counter is the one to continue from
        first = row.console_seq + 1
        values["console_seq"] = row.console_seq + len(lines)
        conn.execute(
            console.insert(),
            [
                {
                    "task_id": task_id,
                    "seq": first + i,
                    "ts": e["ts"],
                    "stream": e["stream"],
                    "text": e["text"],
                }
                for i, e in enumerate(lines)
            ],
        )
    if tx:
        conn.execute(
            texts.insert(),
            [
                {
                    "task_id": task_id,
                    "title": e["title"],
                    "text": e["text"],
                    "iter": e["iter"],
                    "ts": e["ts"],
                }
                for e in tx
            ],
        )
    tasks_repo.touch(conn, task_id, **values)
    return count


def last_scalars(conn: Connection, task_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(
        select(metric_summaries)
        .where(metric_summaries.c.task_id == task_id)
        .order_by(metric_summaries.c.metric, metric_summaries.c.variant)
    ):
        out.setdefault(r.metric, {})[r.variant] = {
            "value": scalar_store.json_number(r.value),
            "iter": r.iter,
            "min": scalar_store.json_number(r.min),
            "max": scalar_store.json_number(r.max),
        }
    return out


def read_console(
    conn: Connection, task_id: str, after: int, limit: int, order: str
) -> dict[str, Any]:
    c = console.c
    stmt = select(c.seq, c.ts, c.stream, c.text).where(c.task_id == task_id, c.seq > after)
    stmt = stmt.order_by(c.seq.desc() if order == "desc" else c.seq).limit(limit)
    items = [
        {"seq": r.seq, "ts": r.ts, "stream": r.stream, "text": r.text} for r in conn.execute(stmt)
    ]
    next_after = max((i["seq"] for i in items), default=after)
    return {"items": items, "next_after": next_after}


def read_texts(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    c = texts.c
    return [
        {"title": r.title, "text": r.text, "iter": r.iter, "ts": r.ts}
        for r in conn.execute(select(texts).where(c.task_id == task_id).order_by(c.id))
    ]

"""Expired leases: a task whose worker stopped sending heartbeats is failed, or re-queued
when its queue's policy says so and attempts are left.

:func:`decide` is the policy, a pure function; :func:`expire` applies it to every task
whose lease ran out. A re-queued task goes back to its place in its queue (its priority
and enqueue time); the lost attempt's scalars, text reports and artifacts are dropped (the
next attempt makes them again; mixed, two runs would draw one zig-zag curve), its console
is kept and a line from the server marks where the next attempt begins.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import scalars as scalar_store
from hydratrack.server.store.clock import utcnow
from hydratrack.server.store.models import (
    artifacts,
    console,
    queue_entries,
    queues,
    tasks,
    texts,
    workers,
)
from hydratrack.status import TaskStatus

S = TaskStatus
MAX_RETRIES = 100


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happens to one task whose worker was lost."""

    status: TaskStatus  # queued (re-queued), failed, or stopped (an abort was pending)
    reason: str  # the task's status reason

    @property
    def requeue(self) -> bool:
        return self.status is S.QUEUED


@dataclasses.dataclass(frozen=True)
class Lost:
    task_id: str
    status: TaskStatus
    reason: str
    artifact_uris: list[str]  # files of dropped artifacts, for the caller to delete


def decide(
    worker: str, seconds: float, policy: str, retries: int, attempt: int, aborting: bool = False
) -> Outcome:
    """The outcome for a task lost on its ``attempt``-th claim (1 = first); ``aborting``:
    a user asked to stop it (it is not run again)."""
    lost = f"worker {worker} lost: no heartbeat for {seconds:g} s"
    if aborting:
        return Outcome(S.STOPPED, f"{lost}; stopped (an abort was requested)")
    if policy != "requeue":
        return Outcome(S.FAILED, lost)
    attempt = max(attempt, 1)
    total = retries + 1
    if attempt < total:
        return Outcome(S.QUEUED, f"{lost}; requeued, attempt {attempt + 1} of {total}")
    return Outcome(S.FAILED, f"{lost}; failed after {total} attempt{'s' if total > 1 else ''}")


def expire(conn: Connection, lease_seconds: float) -> list[Lost]:
    """Fail or re-queue every task whose lease ran out; what was done to each."""
    now = utcnow()
    stmt = (
        select(
            tasks.c.id,
            tasks.c.attempt,
            tasks.c.queue_id,
            tasks.c.queue_priority,
            tasks.c.enqueued,
            tasks.c.abort_requested,
            workers.c.name.label("worker_name"),
            queues.c.lost_worker_policy,
            queues.c.lost_worker_retries,
        )
        .outerjoin(workers, workers.c.id == tasks.c.worker_id)
        .outerjoin(queues, queues.c.id == tasks.c.queue_id)
        .where(
            tasks.c.status == S.IN_PROGRESS.value,
            tasks.c.lease_expires.is_not(None),
            tasks.c.lease_expires < now,
        )
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=tasks, skip_locked=True)
    out = []
    for row in conn.execute(stmt).all():
        outcome = decide(
            row.worker_name or "?",
            lease_seconds,
            row.lost_worker_policy or "fail",  # NULL: its queue was deleted
            row.lost_worker_retries or 0,
            row.attempt,
            bool(row.abort_requested),
        )
        if outcome.requeue:
            uris = _requeue(conn, row, outcome.reason)
        else:
            _end(conn, row.id, outcome)
            uris = []
        out.append(Lost(str(row.id), outcome.status, outcome.reason, uris))
    return out


def _end(conn: Connection, task_id: str, outcome: Outcome) -> None:
    now = utcnow()
    conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == S.IN_PROGRESS.value)
        .values(
            status=outcome.status.value,
            completed=now,
            last_update=now,
            lease_expires=None,
            status_reason=outcome.reason,
        )
    )


def _requeue(conn: Connection, row: Any, reason: str) -> list[str]:
    """Back on its queue; the lost attempt's outputs but its console dropped."""
    task_id = row.id
    now = utcnow()
    uris = artifacts_repo.uris(conn, task_id)
    scalar_store.clear(conn, task_id)
    for table in (texts, artifacts):
        conn.execute(delete(table).where(table.c.task_id == task_id))
    seq = conn.execute(select(tasks.c.console_seq).where(tasks.c.id == task_id)).scalar_one()
    conn.execute(
        console.insert().values(
            task_id=task_id,
            seq=seq + 1,
            ts=time.time(),
            stream="stderr",
            text=f"[hydratrack server] {reason}; scalars, text reports and artifacts of the "
            "lost attempt were dropped\n",
        )
    )
    conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id)
        .values(
            status=S.QUEUED.value,
            worker_id=None,
            lease_expires=None,
            abort_requested=False,
            started=None,
            completed=None,
            last_update=now,
            status_message="",
            status_reason=reason,
            console_seq=seq + 1,
        )
    )
    conn.execute(
        queue_entries.insert().values(
            task_id=task_id,
            queue_id=row.queue_id,
            priority=row.queue_priority,
            added=row.enqueued or now,
        )
    )
    return uris

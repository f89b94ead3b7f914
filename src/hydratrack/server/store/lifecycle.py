"""Task state changes: enqueue, dequeue, abort, reset, publish, archive, runner status.

Every change checks ``hydratrack.status.ALLOWED_TRANSITIONS``; an illegal one raises
:class:`InvalidState` naming the task's state and the state the action needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from hydratrack.server.errors import InvalidState
from hydratrack.server.store import projects
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store import scalars as scalar_store
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.clock import utcnow
from hydratrack.server.store.models import (
    artifacts,
    console,
    event_batches,
    metric_summaries,
    queue_entries,
    texts,
)
from hydratrack.status import TaskStatus, can_transition

S = TaskStatus
RUNNER_TRANSITIONS = frozenset(
    {
        (S.DRAFT, S.IN_PROGRESS),
        (S.QUEUED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.IN_PROGRESS, S.FAILED),
        (S.IN_PROGRESS, S.STOPPED),
    }
)


def _needs(action: str, *states: TaskStatus) -> str:
    return " or ".join(s.value for s in states)


def _check(row: Any, action: str, to: TaskStatus, *needs: TaskStatus) -> None:
    if TaskStatus(row.status) not in needs or not can_transition(row.status, to):
        raise InvalidState(row.id, row.status, action, _needs(action, *needs))


def enqueue(conn: Connection, task_id: str, queue: str, priority: int = 0) -> None:
    row = tasks_repo.lock_row(conn, task_id)
    _check(row, "enqueue", S.QUEUED, S.DRAFT)
    q = queues_repo.get_row(conn, queue)
    now = utcnow()
    conn.execute(
        queue_entries.insert().values(task_id=task_id, queue_id=q.id, priority=priority, added=now)
    )
    tasks_repo.touch(
        conn,
        task_id,
        status=S.QUEUED.value,
        queue_id=q.id,
        status_message="",
        status_reason="",
        abort_requested=False,
        attempt=0,
        queue_priority=priority,
        enqueued=now,
    )


def dequeue(conn: Connection, task_id: str) -> None:
    row = tasks_repo.lock_row(conn, task_id)
    _check(row, "dequeue", S.DRAFT, S.QUEUED)
    conn.execute(delete(queue_entries).where(queue_entries.c.task_id == task_id))
    tasks_repo.touch(conn, task_id, status=S.DRAFT.value, queue_id=None)


def abort(conn: Connection, task_id: str, reason: str | None) -> None:
    row = tasks_repo.lock_row(conn, task_id)
    reason = reason or "aborted by user"
    if row.status == S.QUEUED.value:
        conn.execute(delete(queue_entries).where(queue_entries.c.task_id == task_id))
        tasks_repo.touch(
            conn, task_id, status=S.STOPPED.value, status_reason=reason, completed=utcnow()
        )
    elif row.status == S.IN_PROGRESS.value and row.worker_id:
        tasks_repo.touch(conn, task_id, abort_requested=True, status_reason=reason)
    elif row.status == S.IN_PROGRESS.value:
        tasks_repo.touch(
            conn,
            task_id,
            status=S.STOPPED.value,
            status_reason=reason,
            completed=utcnow(),
            lease_expires=None,
        )
    else:
        raise InvalidState(task_id, row.status, "abort", "queued or in_progress")


def clear_outputs(conn: Connection, task_id: str) -> None:
    scalar_store.clear(conn, task_id)
    for table in (metric_summaries, console, texts, event_batches, artifacts):
        conn.execute(delete(table).where(table.c.task_id == task_id))


def reset(conn: Connection, task_id: str) -> None:
    """Back to draft with outputs cleared (artifact files are removed by the caller)."""
    row = tasks_repo.lock_row(conn, task_id)
    if row.status != S.DRAFT.value:
        _check(row, "reset", S.DRAFT, S.COMPLETED, S.FAILED, S.STOPPED)
    clear_outputs(conn, task_id)
    tasks_repo.touch(conn, task_id, **tasks_repo.NOT_RUN)


def publish(conn: Connection, task_id: str) -> None:
    row = tasks_repo.lock_row(conn, task_id)
    _check(row, "publish", S.PUBLISHED, S.COMPLETED, S.FAILED, S.STOPPED)
    tasks_repo.touch(conn, task_id, status=S.PUBLISHED.value)


def archive(conn: Connection, task_id: str, archived: bool) -> None:
    row = tasks_repo.lock_row(conn, task_id)
    if row.status == S.IN_PROGRESS.value:
        raise InvalidState(task_id, row.status, "archive", "any state but in_progress")
    tasks_repo.touch(conn, task_id, archived=archived)


def set_status(
    conn: Connection,
    task_id: str,
    status: TaskStatus,
    message: str | None,
    reason: str | None,
    ended: float | None = None,
) -> Any:
    """Runner transitions (SDK local runs and agents); the same state again is a no-op.
    ``ended`` (epoch seconds): when a final status really happened (a replayed spool), kept
    as the task's ``completed`` time (never later than now; ``started`` moves back to it if
    it is later, as when a spooled run's create was replayed after it ended).

    Returns the task's row as it now reads (for :func:`tasks.full_view`, no re-read)."""
    row = tasks_repo.lock_named_row(conn, task_id)
    current = TaskStatus(row.status)
    if current == status:
        return row
    if (current, status) not in RUNNER_TRANSITIONS:
        needs = sorted({a.value for a, b in RUNNER_TRANSITIONS if b == status})
        raise InvalidState(
            task_id,
            row.status,
            f"status {status.value}",
            " or ".join(needs) if needs else "another action",
        )
    now = utcnow()
    values: dict[str, Any] = {"status": status.value, "last_update": now}
    if message is not None:
        values["status_message"] = message
    if reason is not None:
        values["status_reason"] = reason
    if status == S.IN_PROGRESS:
        conn.execute(delete(queue_entries).where(queue_entries.c.task_id == task_id))
        values.update(started=now, completed=None)
    else:
        completed = now if ended is None else _from_epoch(min(ended, now_epoch(now)))
        values.update(completed=completed, lease_expires=None)
        if row.started is not None and row.started > completed:
            values["started"] = completed  # (a spooled run's create was replayed later)
    tasks_repo.touch(conn, task_id, **values)
    projects.touch(conn, row.project_id)  # runs starting and ending are project activity
    return tasks_repo.changed(row, values)


def _from_epoch(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def now_epoch(now: dt.datetime) -> float:
    return now.replace(tzinfo=dt.timezone.utc).timestamp()

"""Queues and their entries; the atomic claim of the next queued task by a worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydratrack.server.errors import Conflict, NotFound
from hydratrack.server.store import access
from hydratrack.server.store.clock import iso, new_id, utcnow
from hydratrack.server.store.models import projects, queue_entries, queues, tasks, users
from hydratrack.status import TaskStatus


def get_row(conn: Connection, id_or_name: str) -> Any:
    """A queue by id or name, the id first: another user's queue *named* like this
    queue's id must never be the one found (store/access.py orders the same way)."""
    row = conn.execute(
        select(queues)
        .where(or_(queues.c.id == id_or_name, queues.c.name == id_or_name))
        .order_by((queues.c.id == id_or_name).desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound("queue", id_or_name)
    return row


def _length(conn: Connection, queue_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(queue_entries)
            .where(queue_entries.c.queue_id == queue_id)
        ).scalar_one()
    )


def _view(row: Any, length: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "length": length,
        "created": iso(row.created),
        "lost_worker_policy": row.lost_worker_policy,
        "lost_worker_retries": row.lost_worker_retries,
        "owner_id": row.owner_id,
        "access": row.access,
    }


def list_(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(queue_entries.c.queue_id, func.count()).group_by(queue_entries.c.queue_id)
    ).all()
    counts = {str(qid): int(n) for qid, n in rows}
    return [
        _view(r, int(counts.get(r.id, 0)))
        for r in conn.execute(select(queues).order_by(queues.c.name))
    ]


def get(conn: Connection, id_or_name: str, readable_by: str | None = None) -> dict[str, Any]:
    """A queue and its entries; ``readable_by``: only entries of tasks in projects this
    user owns or was granted are listed (the count is of all)."""
    row = get_row(conn, id_or_name)
    entries = conn.execute(
        select(queue_entries, tasks.c.name, tasks.c.project_id)
        .join(tasks, tasks.c.id == queue_entries.c.task_id)
        .where(queue_entries.c.queue_id == row.id)
        .order_by(queue_entries.c.priority.desc(), queue_entries.c.added)
    ).all()
    out = _view(row, len(entries))
    if readable_by:
        readable = set(conn.execute(access.readable_projects(readable_by)).scalars())
        entries = [e for e in entries if e.project_id in readable]
    out["entries"] = [
        {"task": {"id": e.task_id, "name": e.name}, "priority": e.priority, "added": iso(e.added)}
        for e in entries
    ]
    return out


def create(
    conn: Connection,
    name: str,
    owner_id: str | None = None,
    access: str = "members",
    **policy: Any,
) -> dict[str, Any]:
    """A new queue; ``policy``: ``lost_worker_policy`` and ``lost_worker_retries``."""
    if conn.execute(select(queues.c.id).where(queues.c.name == name)).first():
        raise Conflict(f"queue {name} already exists")
    qid = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                queues.insert().values(
                    id=qid, name=name, created=utcnow(), owner_id=owner_id, access=access, **policy
                )
            )
    except IntegrityError:
        raise Conflict(f"queue {name} already exists") from None
    return get(conn, qid)


def update_policy(conn: Connection, id_or_name: str, **policy: Any) -> dict[str, Any]:
    """Change what happens to a task of this queue whose worker is lost
    (``lost_worker_policy``, ``lost_worker_retries``) and who may enqueue (``access``)."""
    row = get_row(conn, id_or_name)
    if policy:
        conn.execute(update(queues).where(queues.c.id == row.id).values(**policy))
    return get(conn, row.id)


def ensure(conn: Connection, name: str) -> None:
    if conn.execute(select(queues.c.id).where(queues.c.name == name)).first() is None:
        try:
            create(conn, name)
        except Conflict:  # made at the same moment by another server process
            pass


def delete_(conn: Connection, id_or_name: str) -> None:
    row = get_row(conn, id_or_name)
    n = _length(conn, row.id)
    if n:
        raise Conflict(f"queue {row.name} is not empty ({n} tasks)")
    conn.execute(delete(queues).where(queues.c.id == row.id))


def has_entries(conn: Connection, queue_ids: list[str]) -> bool:
    """Cheap read first, so idle long-polls do not queue up for the write lock."""
    if not queue_ids:
        return False
    first = conn.execute(
        select(queue_entries.c.task_id).where(queue_entries.c.queue_id.in_(queue_ids)).limit(1)
    ).first()
    return first is not None


def _limited(limits: dict[str, list[str]] | None) -> Any:
    """Tasks an agent limited to given users' / projects' tasks may take (None: any)."""
    if not limits:
        return None
    ok = select(tasks.c.id)
    if limits.get("users"):
        ok = ok.where(
            tasks.c.user_id.in_(select(users.c.id).where(users.c.name.in_(limits["users"])))
        )
    if limits.get("projects"):
        ok = ok.where(
            tasks.c.project_id.in_(
                select(projects.c.id).where(projects.c.name.in_(limits["projects"]))
            )
        )
    return queue_entries.c.task_id.in_(ok)


def claim(
    conn: Connection,
    worker_id: str,
    queue_ids: list[str],
    lease_seconds: float,
    limits: dict[str, list[str]] | None = None,
) -> str | None:
    """Take the first entry (priority, then age) of the worker's queues; the task id or None.
    ``limits``: only tasks of these users / projects (names), see :func:`_limited`.

    Atomic: on PostgreSQL the entry row is locked with ``SKIP LOCKED`` so two claims never
    take the same task; SQLite writes are serialized.
    """
    task_id = None
    for queue_id in queue_ids:  # queues listed first by the worker win
        stmt = (
            select(queue_entries.c.task_id)
            .where(queue_entries.c.queue_id == queue_id)
            .order_by(queue_entries.c.priority.desc(), queue_entries.c.added)
            .limit(1)
        )
        if limits:
            stmt = stmt.where(_limited(limits))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        task_id = conn.execute(stmt).scalar()
        if task_id is not None:
            break
    if task_id is None:
        return None
    conn.execute(delete(queue_entries).where(queue_entries.c.task_id == task_id))
    now = utcnow()
    res = conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == TaskStatus.QUEUED.value)
        .values(
            status=TaskStatus.IN_PROGRESS.value,
            worker_id=worker_id,
            started=now,
            completed=None,
            last_update=now,
            abort_requested=False,
            status_message="",  # the reason stays: "requeued, attempt 2 of 3" on a retry
            attempt=tasks.c.attempt + 1,
            lease_expires=now + dt.timedelta(seconds=lease_seconds),
        )
    )
    if res.rowcount != 1:
        return None
    conn.execute(
        update(projects)
        .where(
            projects.c.id
            == select(tasks.c.project_id).where(tasks.c.id == task_id).scalar_subquery()
        )
        .values(last_activity=now)
    )
    return str(task_id)

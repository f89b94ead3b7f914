"""Workers (agents): registration, heartbeats that renew leases, the abort list, and the
removal of workers gone (no heartbeat) for longer than the server's setting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydratrack.server.errors import Conflict, NotFound
from hydratrack.server.store import access
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.clock import iso, new_id, utcnow
from hydratrack.server.store.models import queues, tasks, workers
from hydratrack.status import TaskStatus

_RUNNING = TaskStatus.IN_PROGRESS.value


def get_row(conn: Connection, worker_id: str) -> Any:
    row = conn.execute(select(workers).where(workers.c.id == worker_id)).first()
    if row is None:
        raise NotFound("worker", worker_id)
    return row


def _view(conn: Connection, row: Any, readable: set[str] | None = None) -> dict[str, Any]:
    """A worker; ``readable``: the project ids whose running task may be named (None: all)."""
    names = dict(
        conn.execute(
            select(queues.c.id, queues.c.name).where(queues.c.id.in_(list(row.queues)))
        ).all()
    )
    task = conn.execute(
        select(tasks.c.id, tasks.c.name, tasks.c.project_id)
        .where(tasks.c.worker_id == row.id, tasks.c.status == _RUNNING)
        .order_by(tasks.c.started.desc())
        .limit(1)
    ).first()
    return {
        "id": row.id,
        "name": row.name,
        "queues": [names.get(q, q) for q in row.queues],
        "task": (
            {"id": task.id, "name": task.name}
            if task and (readable is None or task.project_id in readable)
            else None
        ),
        "last_heartbeat": iso(row.last_heartbeat),
        "registered": iso(row.registered),
        "owner_id": row.user_id,
        "limits": row.limits or {},
    }


def list_(conn: Connection, readable_by: str | None = None) -> list[dict[str, Any]]:
    """Every worker; ``readable_by``: a running task is named only when it is in a project
    this user owns or was granted."""
    readable = (
        set(conn.execute(access.readable_projects(readable_by)).scalars()) if readable_by else None
    )
    return [
        _view(conn, r, readable) for r in conn.execute(select(workers).order_by(workers.c.name))
    ]


def register(
    conn: Connection,
    name: str,
    queue_names: list[str],
    user_id: str,
    access_key: str | None = None,
    limits: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Register (or replace) the worker of this name; queues given by name or id.

    A name is bound to the key that registered it: only that key re-registers it (an
    agent restarting); another key gets a Conflict until the worker is unregistered."""
    queue_ids = [queues_repo.get_row(conn, q).id for q in queue_names]
    prior = conn.execute(
        select(workers.c.id, workers.c.access_key, workers.c.user_id).where(workers.c.name == name)
    ).first()
    old = prior.id if prior is not None else None
    if prior is not None and (
        prior.access_key != access_key if prior.access_key else prior.user_id != user_id
    ):
        raise Conflict(
            f"worker name {name} is bound to another key; its owner or an admin can "
            "unregister it (DELETE /workers/{id})"
        )
    now = utcnow()
    if old is not None:
        conn.execute(delete(workers).where(workers.c.id == old))
    wid = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                workers.insert().values(
                    id=wid,
                    name=name,
                    queues=queue_ids,
                    user_id=user_id,
                    registered=now,
                    last_heartbeat=now,
                    access_key=access_key,
                    limits=limits or None,
                )
            )
    except IntegrityError:
        raise Conflict(f"worker {name} is registering from elsewhere at this moment") from None
    if old is not None:  # tasks the replaced registration held stay leased to the new one
        conn.execute(update(tasks).where(tasks.c.worker_id == old).values(worker_id=wid))
    return _view(conn, get_row(conn, wid))


def unregister(conn: Connection, worker_id: str) -> list[str]:
    """Remove the worker; tasks it still runs fail at once, naming it. Returns their ids."""
    row = get_row(conn, worker_id)
    held = [
        r.id
        for r in conn.execute(
            select(tasks.c.id).where(tasks.c.worker_id == worker_id, tasks.c.status == _RUNNING)
        )
    ]
    if held:
        reason = f"worker {row.name} unregistered while running it"
        tasks_repo.fail_running(conn, held, reason)
    conn.execute(delete(workers).where(workers.c.id == worker_id))
    return held


def heartbeat(
    conn: Connection, worker_id: str, task_id: str | None, lease_seconds: float
) -> list[str]:
    """Renew the lease of the worker's running tasks; return the ids it must stop."""
    get_row(conn, worker_id)
    now = utcnow()
    conn.execute(update(workers).where(workers.c.id == worker_id).values(last_heartbeat=now))
    conn.execute(
        update(tasks)
        .where(tasks.c.worker_id == worker_id, tasks.c.status == _RUNNING)
        .values(lease_expires=now + dt.timedelta(seconds=lease_seconds))
    )
    abort = [
        r.id
        for r in conn.execute(
            select(tasks.c.id).where(
                tasks.c.worker_id == worker_id,
                tasks.c.status == _RUNNING,
                tasks.c.abort_requested.is_(True),
            )
        )
    ]
    if task_id and task_id not in abort:
        row = conn.execute(
            select(tasks.c.status, tasks.c.worker_id).where(tasks.c.id == task_id)
        ).first()
        if row is None or row.status != _RUNNING or row.worker_id != worker_id:
            abort.append(task_id)  # lost (lease expired, reset, deleted): stop running it
    return abort


def remove_gone(conn: Connection, gone_seconds: float) -> list[str]:
    """Remove workers whose last heartbeat is older than ``gone_seconds``; their names.

    A worker still holding a running task stays until the lease sweeper has dealt with
    that task (its lease is far shorter), so no task ever names a worker not yet judged.
    """
    cutoff = utcnow() - dt.timedelta(seconds=gone_seconds)
    holding = select(tasks.c.worker_id).where(
        tasks.c.status == _RUNNING, tasks.c.worker_id.is_not(None)
    )
    gone = conn.execute(
        select(workers.c.id, workers.c.name).where(
            workers.c.last_heartbeat < cutoff, workers.c.id.not_in(holding)
        )
    ).all()
    if gone:
        conn.execute(delete(workers).where(workers.c.id.in_([r.id for r in gone])))
    return [str(r.name) for r in gone]

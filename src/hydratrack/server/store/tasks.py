"""Tasks: create, read (one), update, delete, clone, and the task object's shape."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from hydratrack.server import limits
from hydratrack.server.errors import Conflict, NotFound
from hydratrack.server.store import bulk, params, projects
from hydratrack.server.store.clock import iso, new_id, utcnow
from hydratrack.server.store.models import (
    projects as projects_t,
)
from hydratrack.server.store.models import (
    queues,
    task_tags,
    tasks,
    users,
    workers,
)
from hydratrack.status import RUN_OUTCOME_VALUES, TaskStatus

SCRIPT_DEFAULTS: dict[str, Any] = {
    "entry_point": "",
    "argv": [],
    "repository": None,
    "branch": None,
    "commit": None,
    "diff": None,
    "working_dir": "",
    "binary": "",
    "requirements": {},
}
LIST_HIDDEN_SCRIPT_KEYS = ("diff", "requirements")


def task_select() -> Select[Any]:
    """Tasks with the names the task object shows (project, user, queue, worker)."""
    return (
        select(
            tasks,
            projects_t.c.name.label("project_name"),
            users.c.name.label("user_name"),
            queues.c.name.label("queue_name"),
            workers.c.name.label("worker_name"),
        )
        .join(projects_t, projects_t.c.id == tasks.c.project_id)
        .outerjoin(users, users.c.id == tasks.c.user_id)
        .outerjoin(queues, queues.c.id == tasks.c.queue_id)
        .outerjoin(workers, workers.c.id == tasks.c.worker_id)
    )


def view(row: Any, *, full: bool = True) -> dict[str, Any]:
    """The task object of docs/api.md (without hyperparams/configuration); a row that
    would break a JSON answer comes degraded (``limits.answerable``)."""
    script = {**SCRIPT_DEFAULTS, **(row.script or {})}
    if not full:
        for key in LIST_HIDDEN_SCRIPT_KEYS:
            script.pop(key, None)
    out = {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "project": {"id": row.project_id, "name": row.project_name},
        "status": row.status,
        "status_message": row.status_message,
        "status_reason": row.status_reason,
        "parent": row.parent_id,
        "user": {"id": row.user_id, "name": row.user_name} if row.user_id else None,
        "tags": list(row.tags or []),
        "comment": row.comment,
        "archived": bool(row.archived),
        "created": iso(row.created),
        "started": iso(row.started),
        "completed": iso(row.completed),
        "last_update": iso(row.last_update),
        "queue": {"id": row.queue_id, "name": row.queue_name} if row.queue_id else None,
        "worker": {"id": row.worker_id, "name": row.worker_name} if row.worker_id else None,
        "abort_requested": bool(row.abort_requested),
        "attempt": row.attempt,  # claims since enqueued (a lost worker's task re-queued: 2..)
        "script": script,
        "runtime": dict(row.runtime or {}),
    }
    return limits.answerable(out, "task", ("script", "runtime"))


# The statements of the per-request paths are built once, with bound parameters: SQLAlchemy
# builds and cache-keys a select each time one is made (cost: docs/benchmarks.md).
_TASK_ID: Any = bindparam("task_id_")
_BY_ID = task_select().where(tasks.c.id == _TASK_ID)
_BY_ID_LOCKED = _BY_ID.with_for_update(of=tasks)
_ROW = select(tasks).where(tasks.c.id == _TASK_ID)
_ROW_LOCKED = _ROW.with_for_update()
_OWNER = select(tasks.c.user_id).where(tasks.c.id == _TASK_ID)
_TOUCH = update(tasks).where(tasks.c.id == _TASK_ID)


def _first(conn: Connection, stmt: Any, task_id: str) -> Any:
    row = conn.execute(stmt, {"task_id_": task_id}).first()
    if row is None:
        raise NotFound("task", task_id)
    return row


def get_row(conn: Connection, task_id: str) -> Any:
    return _first(conn, _BY_ID, task_id)


def lock_row(conn: Connection, task_id: str) -> Any:
    """The task row, locked for update on PostgreSQL (SQLite writes are serialized)."""
    return _first(conn, _ROW_LOCKED if conn.dialect.name == "postgresql" else _ROW, task_id)


def lock_named_row(conn: Connection, task_id: str) -> Any:
    """:func:`lock_row` with the names the task object shows (for :func:`full_view`)."""
    return _first(conn, _BY_ID_LOCKED if conn.dialect.name == "postgresql" else _BY_ID, task_id)


def changed(row: Any, values: dict[str, Any]) -> Any:
    """A row of :func:`task_select` as it reads after ``values`` were written to it."""
    return SimpleNamespace(**{**row._mapping, **values})


def get(conn: Connection, task_id: str) -> dict[str, Any]:
    return full_view(conn, get_row(conn, task_id))


def full_view(conn: Connection, row: Any) -> dict[str, Any]:
    """The task object of a row of :func:`task_select`, with hyperparams and configuration."""
    task_id = row.id
    out = view(row)
    out["hyperparams"] = params.get_hyperparams(conn, task_id)
    out["configuration"] = params.get_configuration(conn, task_id)
    return out


def _set_tags(conn: Connection, task_id: str, tags: list[str]) -> None:
    conn.execute(delete(task_tags).where(task_tags.c.task_id == task_id))
    unique = list(dict.fromkeys(tags))
    if unique:
        conn.execute(task_tags.insert(), [{"task_id": task_id, "tag": t} for t in unique])


def create(
    conn: Connection, user_id: str, body: dict[str, Any], user_name: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Create a task; returns (task, created). A retry with the same id returns it as is.

    ``status`` may be a final one (completed, failed, stopped): the task is stored as if
    created ``in_progress`` and then moved there by the runner (started = completed = now,
    ``status_message``/``status_reason`` set). The answer is made from what was written
    (no re-read); ``user_name`` is the caller's name, looked up when not given.
    """
    task_id = body.get("id") or new_id()
    existing = conn.execute(_OWNER, {"task_id_": task_id}).first()
    if existing is not None:
        return _existing(conn, task_id, existing.user_id, user_id), False
    if body.get("project_id"):
        project = projects.get_row(conn, body["project_id"])
        project_id, project_name = str(project.id), str(project.name)
    else:
        project_name = body["project"]
        project_id = projects.ensure(conn, project_name, user_id)
    parent = body.get("parent")
    if parent and conn.execute(select(tasks.c.id).where(tasks.c.id == parent)).first() is None:
        raise NotFound("task", parent)
    values = _new_row(task_id, body, project_id, parent, user_id, utcnow())
    if not bulk.insert_new(conn, tasks, values):
        # the same id arrived twice at once (a client retry), from another transaction
        existing = conn.execute(_OWNER, {"task_id_": task_id}).first()
        return _existing(conn, task_id, existing.user_id if existing else None, user_id), False
    if values["tags"]:
        conn.execute(
            task_tags.insert(), [{"task_id": task_id, "tag": tag} for tag in values["tags"]]
        )
    hyper = {
        section: params.add_section(conn, task_id, section, entries)
        for section, entries in (body.get("hyperparams") or {}).items()
    }
    config = params.add_configurations(conn, task_id, body.get("configuration") or {})
    projects.touch(conn, project_id)
    if user_name is None:
        user_name = conn.execute(select(users.c.name).where(users.c.id == user_id)).scalar()
    row = SimpleNamespace(
        **values,
        attempt=0,  # (its column's default)
        project_name=project_name,
        user_name=user_name,
        queue_name=None,
        worker_name=None,
    )
    out = view(row)
    out["hyperparams"] = {k: hyper[k] for k in sorted(hyper) if hyper[k]}
    out["configuration"] = config
    return out, True


def _existing(conn: Connection, task_id: str, owner: str | None, user_id: str) -> dict[str, Any]:
    if owner is None or owner != user_id:
        raise Conflict(f"task {task_id} already exists")
    return get(conn, task_id)


def _new_row(
    task_id: str, body: dict[str, Any], project_id: str, parent: str | None, user_id: str, now: Any
) -> dict[str, Any]:
    """The columns of a new task; a final status is in_progress then finished, at once."""
    status = body.get("status") or TaskStatus.DRAFT.value
    final = status in RUN_OUTCOME_VALUES
    running = final or status == TaskStatus.IN_PROGRESS.value
    return dict(
        id=task_id,
        name=body["name"],
        type=body.get("type") or "training",
        project_id=project_id,
        status=status,
        status_message=(body.get("status_message") or "") if final else "",
        status_reason=(body.get("status_reason") or "") if final else "",
        parent_id=parent,
        user_id=user_id,
        tags=list(dict.fromkeys(body.get("tags") or [])),
        comment=body.get("comment") or "",
        archived=False,
        created=now,
        last_update=now,
        started=now if running else None,
        completed=now if final else None,
        queue_id=None,
        worker_id=None,
        abort_requested=False,
        lease_expires=None,
        script={**SCRIPT_DEFAULTS, **(body.get("script") or {})},
        runtime=body.get("runtime") or {},
        console_seq=-1,
    )


_COLUMNS = frozenset(tasks.c.keys())

# A draft that has not run: what a clone starts as and a reset goes back to.
NOT_RUN: dict[str, Any] = {
    "status": TaskStatus.DRAFT.value,
    "status_message": "",
    "status_reason": "",
    "started": None,
    "completed": None,
    "queue_id": None,
    "worker_id": None,
    "abort_requested": False,
    "lease_expires": None,
    "console_seq": -1,
}


def fail_running(conn: Connection, task_ids: list[str], reason: str) -> None:
    """Fail those of ``task_ids`` still in_progress (their worker is gone), saying why."""
    now = utcnow()
    conn.execute(
        update(tasks)
        .where(tasks.c.id.in_(task_ids), tasks.c.status == TaskStatus.IN_PROGRESS.value)
        .values(
            status=TaskStatus.FAILED.value,
            completed=now,
            last_update=now,
            lease_expires=None,
            status_reason=reason,
        )
    )


def touch(conn: Connection, task_id: str, **values: Any) -> None:
    """Write ``values`` and ``last_update`` (now, unless given)."""
    if not values.keys() <= _COLUMNS:  # a prebuilt update would skip them silently
        raise ValueError(f"tasks has no column {sorted(values.keys() - _COLUMNS)}")
    conn.execute(_TOUCH, {"last_update": utcnow(), **values, "task_id_": task_id})


def patch(conn: Connection, task_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    row = lock_row(conn, task_id)
    if row.status == TaskStatus.PUBLISHED.value and changes:
        raise Conflict(f"task {task_id} is published; it cannot be changed")
    if ("script" in changes or "runtime" in changes) and row.status not in (
        TaskStatus.DRAFT.value,
        TaskStatus.IN_PROGRESS.value,
    ):
        raise Conflict(
            f"task {task_id} is {row.status}; script and runtime change only "
            "in draft or in_progress"
        )
    values = dict(changes)
    if "script" in values:
        values["script"] = {**SCRIPT_DEFAULTS, **(row.script or {}), **values["script"]}
    if "tags" in values:
        values["tags"] = list(dict.fromkeys(values["tags"]))
        _set_tags(conn, task_id, values["tags"])
    touch(conn, task_id, **values)
    return get(conn, task_id)


def ensure_editable(row: Any) -> None:
    """Hyperparams and configuration change only in draft (or by the run itself)."""
    if row.status not in (TaskStatus.DRAFT.value, TaskStatus.IN_PROGRESS.value):
        raise Conflict(f"task {row.id} is {row.status}; only draft tasks can be edited")


def delete_(conn: Connection, task_id: str) -> None:
    row = lock_row(conn, task_id)
    if row.status in (TaskStatus.QUEUED.value, TaskStatus.IN_PROGRESS.value):
        raise Conflict(f"task {task_id} is {row.status}; dequeue or abort it before deleting")
    conn.execute(update(tasks).where(tasks.c.parent_id == task_id).values(parent_id=None))
    conn.execute(delete(tasks).where(tasks.c.id == task_id))


def clone(
    conn: Connection,
    user_id: str,
    task_id: str,
    body: dict[str, Any],
    hide: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A draft copy of ``task_id`` owned by ``user_id``. With ``hide`` (the server's secret
    mask, for a caller who may not read the source's secrets) the copy's secret values in
    hyperparameters, configuration, ``script`` and ``runtime`` are stored masked."""
    src = get_row(conn, task_id)
    copied: dict[str, Any] = {"script": dict(src.script or {}), "runtime": dict(src.runtime or {})}
    if hide is not None:
        copied = hide(
            {
                **copied,
                "hyperparams": params.get_hyperparams(conn, src.id),
                "configuration": params.get_configuration(conn, src.id),
            }
        )
    project_id = (
        projects.ensure(conn, body["project"], user_id) if body.get("project") else src.project_id
    )
    new = new_id()
    now = utcnow()
    conn.execute(
        tasks.insert().values(
            id=new,
            name=body.get("name") or f"{src.name} (clone)",
            type=src.type,
            project_id=project_id,
            parent_id=src.id,
            user_id=user_id,
            tags=list(src.tags or []),
            comment=body["comment"] if body.get("comment") is not None else src.comment,
            archived=False,
            created=now,
            last_update=now,
            script=copied["script"],
            runtime=copied["runtime"],
            **NOT_RUN,
        )
    )
    _set_tags(conn, new, list(src.tags or []))
    if hide is None:
        params.copy_all(conn, src.id, new)
    else:
        for section, entries in copied["hyperparams"].items():
            params.add_section(conn, new, section, entries)
        params.add_configurations(conn, new, copied["configuration"])
    projects.touch(conn, project_id)
    return get(conn, new)

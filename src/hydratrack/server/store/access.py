"""What permission decisions need to know about a project, task, queue or worker, in
one query each, and the grants behind them (per-project levels, per-queue enqueue)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.engine import Connection

from hydratrack.server.errors import NotFound
from hydratrack.server.store.models import (
    project_permissions,
    projects,
    queue_permissions,
    queues,
    tasks,
    users,
    workers,
)


def _grant(project_id: Any, user_id: str) -> Any:
    return (
        select(project_permissions.c.level)
        .where(project_permissions.c.project_id == project_id)
        .where(project_permissions.c.user_id == user_id)
        .scalar_subquery()
    )


def facts(conn: Connection, kind: str, ident: str, user_id: str) -> dict[str, Any]:
    """Fields of :class:`hydratrack.server.permissions.Resource` for ``ident`` as seen
    by ``user_id``; NotFound when it does not exist."""
    if kind == "task":
        row = conn.execute(
            select(
                tasks.c.user_id,
                projects.c.owner_id,
                workers.c.access_key,
                _grant(tasks.c.project_id, user_id).label("grant"),
            )
            .join(projects, projects.c.id == tasks.c.project_id)
            .outerjoin(workers, workers.c.id == tasks.c.worker_id)
            .where(tasks.c.id == ident)
        ).first()
        if row is None:
            raise NotFound("task", ident)
        return {
            "id": ident,
            "owner_id": row.user_id,
            "project_owner_id": row.owner_id,
            "grant": row.grant,
            "worker_key": row.access_key,
        }
    if kind == "project":
        row = conn.execute(
            select(
                projects.c.id, projects.c.owner_id, _grant(projects.c.id, user_id).label("g")
            ).where(projects.c.id == ident)
        ).first()
        if row is None:
            raise NotFound("project", ident)
        return {
            "id": ident,
            "owner_id": row.owner_id,
            "project_owner_id": row.owner_id,
            "grant": row.g,
        }
    if kind == "queue":
        row = conn.execute(
            select(queues.c.id, queues.c.owner_id, queues.c.access, queue_permissions.c.user_id)
            .outerjoin(
                queue_permissions,
                and_(
                    queue_permissions.c.queue_id == queues.c.id,
                    queue_permissions.c.user_id == user_id,
                ),
            )
            .where(or_(queues.c.id == ident, queues.c.name == ident))
            .order_by((queues.c.id == ident).desc())  # the id first, as queues.get_row
            .limit(1)
        ).first()
        if row is None:
            raise NotFound("queue", ident)
        return {
            "id": row.id,
            "owner_id": row.owner_id,
            "queue_access": row.access,
            "queue_granted": row.user_id is not None,
        }
    if kind == "worker":
        row = conn.execute(
            select(workers.c.user_id, workers.c.access_key).where(workers.c.id == ident)
        ).first()
        if row is None:
            raise NotFound("worker", ident)
        return {"id": ident, "owner_id": row.user_id, "worker_key": row.access_key}
    raise ValueError(f"unknown resource kind {kind!r}")


def readable_projects(user_id: str) -> Any:
    """Ids of the projects ``user_id`` owns or was granted (for lists when the server's
    default gives members nothing)."""
    return (
        select(projects.c.id)
        .where(projects.c.owner_id == user_id)
        .union(
            select(project_permissions.c.project_id).where(project_permissions.c.user_id == user_id)
        )
    )


def project_facts_by_name(conn: Connection, name: str, user_id: str) -> dict[str, Any] | None:
    """:func:`facts` of the project named ``name``, or None when there is none."""
    pid = conn.execute(select(projects.c.id).where(projects.c.name == name)).scalar()
    return None if pid is None else facts(conn, "project", pid, user_id)


# -- grants ----------------------------------------------------------------------------
def _user_id(conn: Connection, id_or_name: str) -> str:
    uid = conn.execute(
        select(users.c.id).where(or_(users.c.id == id_or_name, users.c.name == id_or_name))
    ).scalar()
    if uid is None:
        raise NotFound("user", id_or_name)
    return str(uid)


def project_grants(conn: Connection, project_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(users.c.id, users.c.name, project_permissions.c.level)
        .join(users, users.c.id == project_permissions.c.user_id)
        .where(project_permissions.c.project_id == project_id)
        .order_by(users.c.name)
    )
    return [{"user": {"id": r.id, "name": r.name}, "level": r.level} for r in rows]


def grant_project(conn: Connection, project_id: str, user: str, level: str) -> None:
    uid = _user_id(conn, user)
    revoke_project(conn, project_id, uid)
    conn.execute(
        project_permissions.insert().values(project_id=project_id, user_id=uid, level=level)
    )


def revoke_project(conn: Connection, project_id: str, user: str) -> None:
    uid = _user_id(conn, user)
    conn.execute(
        delete(project_permissions).where(
            project_permissions.c.project_id == project_id, project_permissions.c.user_id == uid
        )
    )


def queue_grants(conn: Connection, queue_id: str) -> list[dict[str, str]]:
    rows = conn.execute(
        select(users.c.id, users.c.name)
        .join(queue_permissions, users.c.id == queue_permissions.c.user_id)
        .where(queue_permissions.c.queue_id == queue_id)
        .order_by(users.c.name)
    )
    return [{"id": r.id, "name": r.name} for r in rows]


def grant_queue(conn: Connection, queue_id: str, user: str) -> None:
    uid = _user_id(conn, user)
    revoke_queue(conn, queue_id, uid)
    conn.execute(queue_permissions.insert().values(queue_id=queue_id, user_id=uid))


def revoke_queue(conn: Connection, queue_id: str, user: str) -> None:
    uid = _user_id(conn, user)
    conn.execute(
        delete(queue_permissions).where(
            queue_permissions.c.queue_id == queue_id, queue_permissions.c.user_id == uid
        )
    )

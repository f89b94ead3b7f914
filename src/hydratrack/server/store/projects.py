"""Projects: named groups of tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydratrack.server.errors import Conflict, NotFound
from hydratrack.server.store import access
from hydratrack.server.store.clock import iso, new_id, utcnow
from hydratrack.server.store.db import contains_pattern
from hydratrack.server.store.models import projects, tasks


def _view(row: Any, task_count: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "task_count": task_count,
        "last_activity": iso(row.last_activity),
        "created": iso(row.created),
        "owner_id": row.owner_id,
    }


def _count(conn: Connection, project_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(tasks).where(tasks.c.project_id == project_id)
        ).scalar_one()
    )


def get_row(conn: Connection, project_id: str) -> Any:
    row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
    if row is None:
        raise NotFound("project", project_id)
    return row


def get(conn: Connection, project_id: str) -> dict[str, Any]:
    return _view(get_row(conn, project_id), _count(conn, project_id))


_BY_NAME = select(projects).where(projects.c.name == bindparam("name_"))
_TOUCH = update(projects).where(projects.c.id == bindparam("id_"))


def by_name(conn: Connection, name: str) -> Any | None:
    return conn.execute(_BY_NAME, {"name_": name}).first()


def create(
    conn: Connection, name: str, description: str = "", owner_id: str | None = None
) -> dict[str, Any]:
    if by_name(conn, name) is not None:
        raise Conflict(f"project {name} already exists")
    pid = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                projects.insert().values(
                    id=pid,
                    name=name,
                    description=description,
                    created=utcnow(),
                    last_activity=None,
                    owner_id=owner_id,
                )
            )
    except IntegrityError:
        raise Conflict(f"project {name} already exists") from None
    return get(conn, pid)


def ensure(conn: Connection, name: str, owner_id: str | None = None) -> str:
    """The id of the project with this name, created (owned by ``owner_id``) when missing."""
    row = by_name(conn, name)
    if row is not None:
        return str(row.id)
    try:
        return str(create(conn, name, owner_id=owner_id)["id"])
    except Conflict:  # made at the same moment by another request (PostgreSQL)
        row = by_name(conn, name)
        if row is None:
            raise
        return str(row.id)


def touch(conn: Connection, project_id: str) -> None:
    conn.execute(_TOUCH, {"last_activity": utcnow(), "id_": project_id})


def patch(conn: Connection, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    get_row(conn, project_id)
    if "name" in changes:
        other = by_name(conn, changes["name"])
        if other is not None and other.id != project_id:
            raise Conflict(f"project {changes['name']} already exists")
    if changes:
        conn.execute(update(projects).where(projects.c.id == project_id).values(**changes))
    return get(conn, project_id)


def list_(
    conn: Connection, q: str | None, offset: int, limit: int, readable_by: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """``readable_by``: only the projects this user owns or was granted."""
    where: list[Any] = []
    if readable_by:
        where.append(projects.c.id.in_(access.readable_projects(readable_by)))
    if q:
        like = contains_pattern(q)
        where.append(
            or_(
                projects.c.name.ilike(like, escape="\\"),
                projects.c.description.ilike(like, escape="\\"),
            )
        )
    total = int(conn.execute(select(func.count()).select_from(projects).where(*where)).scalar_one())
    counts = (
        select(tasks.c.project_id, func.count().label("n")).group_by(tasks.c.project_id).subquery()
    )
    rows = conn.execute(
        select(projects, func.coalesce(counts.c.n, 0).label("n"))
        .outerjoin(counts, counts.c.project_id == projects.c.id)
        .where(*where)
        .order_by(projects.c.name)
        .offset(offset)
        .limit(limit)
    )
    return [_view(r, int(r.n)) for r in rows], total

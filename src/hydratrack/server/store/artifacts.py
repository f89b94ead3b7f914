"""Artifact records of a task (the bytes live in the file store, see server/files.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.engine import Connection

from hydratrack.server import limits
from hydratrack.server.errors import NotFound
from hydratrack.server.store.clock import iso, utcnow
from hydratrack.server.store.models import artifacts


def _view(r: Any) -> dict[str, Any]:
    """An artifact record; degraded when it would break a JSON answer (``limits``)."""
    out = {
        "name": r.name,
        "uri": r.uri,
        "size": r.size,
        "hash": r.hash,
        "content_type": r.content_type,
        "metadata": dict(r.meta or {}),
        "created": iso(r.created),
    }
    return limits.answerable(out, "artifact", ("metadata",))


def list_(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(artifacts).where(artifacts.c.task_id == task_id).order_by(artifacts.c.name)
    )
    return [_view(r) for r in rows]


def uris(conn: Connection, task_id: str) -> list[str]:
    return [
        r.uri for r in conn.execute(select(artifacts.c.uri).where(artifacts.c.task_id == task_id))
    ]


def get(conn: Connection, task_id: str, name: str) -> dict[str, Any]:
    row = conn.execute(
        select(artifacts).where(artifacts.c.task_id == task_id, artifacts.c.name == name)
    ).first()
    if row is None:
        raise NotFound("artifact", f"{name} of task {task_id}")
    return _view(row)


def put(
    conn: Connection,
    task_id: str,
    name: str,
    *,
    uri: str,
    size: int,
    sha256: str,
    content_type: str,
    metadata: dict[str, Any],
) -> tuple[dict[str, Any], str | None]:
    """Store (or replace) the record; returns it and the replaced file's uri, if any."""
    old = conn.execute(
        select(artifacts.c.uri).where(artifacts.c.task_id == task_id, artifacts.c.name == name)
    ).scalar()
    conn.execute(delete(artifacts).where(artifacts.c.task_id == task_id, artifacts.c.name == name))
    conn.execute(
        artifacts.insert().values(
            task_id=task_id,
            name=name,
            uri=uri,
            size=size,
            hash=sha256,
            content_type=content_type,
            meta=metadata,
            created=utcnow(),
        )
    )
    return get(conn, task_id, name), (old if old != uri else None)


def rebase(conn: Connection, old_root: str, new_root: str) -> int:
    """Point records of files under ``old_root`` (a URI prefix) at ``new_root`` (after a
    restore into another files root); returns how many changed."""
    if old_root == new_root:
        return 0
    old = old_root.rstrip("/") + "/"
    res = conn.execute(
        update(artifacts)
        .where(func.substr(artifacts.c.uri, 1, len(old)) == old)
        .values(
            uri=literal(new_root.rstrip("/") + "/") + func.substr(artifacts.c.uri, len(old) + 1)
        )
    )
    return int(res.rowcount)

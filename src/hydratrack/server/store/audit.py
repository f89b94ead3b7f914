"""The audit log's rows: who did what, when (what is recorded: ``server/audit.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Connection

from hydratrack.server.store.clock import iso, utcnow
from hydratrack.server.store.models import audit_log

FIELDS = (
    "user_id",
    "user_name",
    "via",
    "access_key",
    "address",
    "action",
    "target_type",
    "target_id",
    "detail",
)


def record(conn: Connection, entry: dict[str, Any]) -> None:
    """Store one entry (keys of :data:`FIELDS`; ``detail`` a small JSON object)."""
    row = {k: entry.get(k) for k in FIELDS}
    row["detail"] = row["detail"] or {}
    conn.execute(insert(audit_log).values(time=utcnow(), **row))


def view(row: Any) -> dict[str, Any]:
    return {"id": row.id, "time": iso(row.time), **{k: getattr(row, k) for k in FIELDS}}


def list_(
    conn: Connection,
    user: str | None = None,
    action: str | None = None,
    target: str | None = None,
    target_type: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first. ``user``: a name or id; ``action``: exact, or ``task.*`` for every
    action starting ``task.``; ``target``: the target's id; ``since`` inclusive, ``until``
    exclusive (naive UTC)."""
    where: list[Any] = []
    c = audit_log.c
    if user:
        where.append(or_(c.user_name == user, c.user_id == user))
    if action:
        if action.endswith(".*"):
            prefix = action[:-1]
            where.append(func.substr(c.action, 1, len(prefix)) == prefix)
        else:
            where.append(c.action == action)
    if target:
        where.append(c.target_id == target)
    if target_type:
        where.append(c.target_type == target_type)
    if since is not None:
        where.append(c.time >= since)
    if until is not None:
        where.append(c.time < until)
    total = conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
    rows = conn.execute(
        select(audit_log).where(*where).order_by(c.id.desc()).offset(offset).limit(limit)
    ).all()
    return [view(r) for r in rows], int(total)

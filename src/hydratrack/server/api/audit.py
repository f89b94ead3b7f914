"""``/audit`` (admins only): the audit log, newest first (what is recorded:
``server/audit.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.permissions import can
from hydratrack.server.store import audit as audit_repo

router = APIRouter(prefix="/audit", tags=["audit"])


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC as the store keeps it; a time without a zone is UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


@router.get("")
def list_audit(
    caller: Annotated[Caller, can("users.admin")],
    ctx: Ctx,
    user: Annotated[str | None, Query(max_length=255)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=255)] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    """``user``: name or id; ``action``: exact or ``task.*``; ``target``: an object's id;
    ``since`` (inclusive) and ``until`` (exclusive): ISO 8601, UTC when no zone is given."""
    with ctx.db.read() as conn:
        items, total = audit_repo.list_(
            conn,
            user=user,
            action=action,
            target=target,
            target_type=target_type,
            since=_utc(since),
            until=_utc(until),
            offset=offset,
            limit=limit,
        )
    return {"items": items, "total": total}

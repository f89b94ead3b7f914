"""``/queues``: list, create, read with entries, change the lost-worker policy and who
may enqueue, delete when empty."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from hydratrack.server.api.models import Name, Strict
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.permissions import can, list_limited_to
from hydratrack.server.store import access as access_repo
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store.leases import MAX_RETRIES

router = APIRouter(prefix="/queues", tags=["queues"])


Policy = Literal["fail", "requeue"]
Retries = Annotated[int, Field(ge=0, le=MAX_RETRIES)]
Access = Literal["members", "granted"]


class QueueIn(Strict):
    name: Name
    lost_worker_policy: Policy = "fail"
    lost_worker_retries: Retries = 0
    access: Access | None = None  # default: the server's queue_access


class QueuePatch(Strict):
    lost_worker_policy: Policy | None = None
    lost_worker_retries: Retries | None = None
    access: Access | None = None


@router.get("")
def list_queues(caller: Annotated[Caller, can("queue.read")], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = queues_repo.list_(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def create_queue(
    body: QueueIn, caller: Annotated[Caller, can("queue.create")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return queues_repo.create(
            conn,
            body.name,
            owner_id=caller.id,
            access=body.access or ctx.settings.queue_access,
            lost_worker_policy=body.lost_worker_policy,
            lost_worker_retries=body.lost_worker_retries,
        )


@router.get("/{id_or_name}")
def get_queue(
    id_or_name: str, caller: Annotated[Caller, can("queue.read")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.read() as conn:
        only = list_limited_to(caller, ctx.settings.project_access)
        return queues_repo.get(conn, id_or_name, only)


@router.delete("/{id_or_name}", status_code=204)
def delete_queue(
    id_or_name: str, caller: Annotated[Caller, can("queue.manage")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        queues_repo.delete_(conn, id_or_name)
    return Response(status_code=204)


@router.patch("/{id_or_name}")
def patch_queue(
    id_or_name: str, body: QueuePatch, caller: Annotated[Caller, can("queue.manage")], ctx: Ctx
) -> dict[str, Any]:
    """Change the lost-worker policy (``fail``, or ``requeue`` up to N retries) and who may
    enqueue (``access``)."""
    with ctx.db.write() as conn:
        out = queues_repo.update_policy(conn, id_or_name, **body.model_dump(exclude_none=True))
    ctx.granted.clear()
    return out


@router.get("/{id_or_name}/permissions")
def list_permissions(
    id_or_name: str, caller: Annotated[Caller, can("queue.read")], ctx: Ctx
) -> dict[str, Any]:
    """Who may enqueue besides admins and the owner: every member (``access`` members)
    or the users listed here (``access`` granted)."""
    with ctx.db.read() as conn:
        row = queues_repo.get_row(conn, id_or_name)
        items = access_repo.queue_grants(conn, row.id)
    return {"owner_id": row.owner_id, "access": row.access, "items": items}


@router.put("/{id_or_name}/permissions/{user}", status_code=204)
def grant(
    id_or_name: str, user: str, caller: Annotated[Caller, can("queue.manage")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        access_repo.grant_queue(conn, queues_repo.get_row(conn, id_or_name).id, user)
    ctx.granted.clear()
    return Response(status_code=204)


@router.delete("/{id_or_name}/permissions/{user}", status_code=204)
def revoke(
    id_or_name: str, user: str, caller: Annotated[Caller, can("queue.manage")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        access_repo.revoke_queue(conn, queues_repo.get_row(conn, id_or_name).id, user)
    ctx.granted.clear()
    return Response(status_code=204)

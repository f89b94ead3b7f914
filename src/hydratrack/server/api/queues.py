"""``/queues``: list, create, read with entries, change the lost-worker policy, delete
when empty."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from hydratrack.server.api.models import Name, Strict
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store.leases import MAX_RETRIES

router = APIRouter(prefix="/queues", tags=["queues"])


Policy = Literal["fail", "requeue"]
Retries = Annotated[int, Field(ge=0, le=MAX_RETRIES)]


class QueueIn(Strict):
    name: Name
    lost_worker_policy: Policy = "fail"
    lost_worker_retries: Retries = 0


class QueuePatch(Strict):
    lost_worker_policy: Policy | None = None
    lost_worker_retries: Retries | None = None


@router.get("")
def list_queues(caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = queues_repo.list_(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def create_queue(body: QueueIn, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return queues_repo.create(
            conn,
            body.name,
            lost_worker_policy=body.lost_worker_policy,
            lost_worker_retries=body.lost_worker_retries,
        )


@router.get("/{id_or_name}")
def get_queue(id_or_name: str, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return queues_repo.get(conn, id_or_name)


@router.patch("/{id_or_name}")
def update_queue(
    id_or_name: str, body: QueuePatch, caller: CurrentUser, ctx: Ctx
) -> dict[str, Any]:
    """Change the lost-worker policy (``fail``, or ``requeue`` up to N retries)."""
    with ctx.db.write() as conn:
        return queues_repo.update_policy(conn, id_or_name, **body.model_dump(exclude_none=True))


@router.delete("/{id_or_name}", status_code=204)
def delete_queue(id_or_name: str, caller: CurrentUser, ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        queues_repo.delete_(conn, id_or_name)
    return Response(status_code=204)

"""``/queues``: list, create, read with entries, delete when empty."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hydratrack.server.api.models import Name, Strict
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.store import queues as queues_repo

router = APIRouter(prefix="/queues", tags=["queues"])


class QueueIn(Strict):
    name: Name


@router.get("")
def list_queues(caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = queues_repo.list_(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def create_queue(body: QueueIn, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return queues_repo.create(conn, body.name)


@router.get("/{id_or_name}")
def get_queue(id_or_name: str, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return queues_repo.get(conn, id_or_name)


@router.delete("/{id_or_name}", status_code=204)
def delete_queue(id_or_name: str, caller: CurrentUser, ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        queues_repo.delete_(conn, id_or_name)
    return Response(status_code=204)

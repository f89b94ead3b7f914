"""``/workers``: register, heartbeat (lease renewal + abort list), long-poll claim."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hydratrack.server.api.models import Name, Strict
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.context import ServerContext
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store import workers as workers_repo

router = APIRouter(prefix="/workers", tags=["workers"])
RECHECK_SECONDS = 0.5


class WorkerIn(Strict):
    name: Name
    queues: Annotated[list[Name], Field(min_length=1)] = ["default"]


class HeartbeatIn(Strict):
    task_id: str | None = None


class ClaimIn(Strict):
    timeout: float = Field(default=20.0, ge=0, le=60)


@router.get("")
def list_workers(caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = workers_repo.list_(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def register(body: WorkerIn, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return workers_repo.register(conn, body.name, body.queues, caller.id)


@router.post("/{worker_id}/heartbeat")
def heartbeat(
    worker_id: str, caller: CurrentUser, ctx: Ctx, body: HeartbeatIn | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        abort = workers_repo.heartbeat(
            conn, worker_id, body.task_id if body else None, ctx.settings.lease_seconds
        )
    return {"abort": abort}


def _try_claim(ctx: ServerContext, worker_id: str) -> dict[str, Any] | None:
    with ctx.db.read() as conn:
        queue_ids = list(workers_repo.get_row(conn, worker_id).queues)
        if not queues_repo.has_entries(conn, queue_ids):
            return None
    with ctx.db.write() as conn:
        task_id = queues_repo.claim(conn, worker_id, queue_ids, ctx.settings.lease_seconds)
        return tasks_repo.get(conn, task_id) if task_id else None


@router.post("/{worker_id}/claim", response_model=None)
async def claim(
    worker_id: str, request: Request, caller: CurrentUser, ctx: Ctx, body: ClaimIn | None = None
) -> dict[str, Any] | Response:
    """Long-poll: answer as soon as a task can be claimed, else 204 after the timeout.

    A worker that hung up (Ctrl-C while waiting) claims nothing: a task taken for a gone
    client would sit in_progress until its lease ran out.
    """
    deadline = time.monotonic() + (body.timeout if body else 20.0)
    while True:
        if await request.is_disconnected():
            return Response(status_code=204)
        seen = ctx.wakeup.generation
        task = await run_in_threadpool(_try_claim, ctx, worker_id)
        if task is not None:
            return task
        left = deadline - time.monotonic()
        if left <= 0:
            return Response(status_code=204)
        await ctx.wakeup.wait(seen, min(RECHECK_SECONDS, left))


@router.delete("/{worker_id}", status_code=204)
def unregister(worker_id: str, caller: CurrentUser, ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        workers_repo.unregister(conn, worker_id)
    return Response(status_code=204)

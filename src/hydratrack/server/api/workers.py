"""``/workers``: register, heartbeat (lease renewal + abort list), long-poll claim."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hydratrack.server.api.models import Name, Strict
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import Forbidden
from hydratrack.server.permissions import can, check_in, list_limited_to, servable
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store import workers as workers_repo

router = APIRouter(prefix="/workers", tags=["workers"])
RECHECK_SECONDS = 0.5


class WorkerIn(Strict):
    name: Name
    queues: Annotated[list[Name], Field(min_length=1)] = ["default"]
    # take only tasks created by these users / in these projects (names); empty: any
    users: list[Name] = []
    projects: list[Name] = []


class HeartbeatIn(Strict):
    task_id: str | None = None


class ClaimIn(Strict):
    timeout: float = Field(default=20.0, ge=0, le=60)


@router.get("")
def list_workers(caller: Annotated[Caller, can("worker.read")], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = workers_repo.list_(conn, list_limited_to(caller, ctx.settings.project_access))
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def register(
    body: WorkerIn, caller: Annotated[Caller, can("worker.register")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        for queue in body.queues:
            check_in(conn, ctx.settings, caller, "queue.serve", "queue", queue)
        limits = {k: v for k, v in (("users", body.users), ("projects", body.projects)) if v}
        return workers_repo.register(
            conn, body.name, body.queues, caller.id, caller.access_key, limits
        )


@router.post("/{worker_id}/heartbeat")
def heartbeat(
    worker_id: str,
    caller: Annotated[Caller, can("worker.serve")],
    ctx: Ctx,
    body: HeartbeatIn | None = None,
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        abort = workers_repo.heartbeat(
            conn, worker_id, body.task_id if body else None, ctx.settings.lease_seconds
        )
    return {"abort": abort}


def _servable(ctx: ServerContext, caller: Caller, worker_id: str) -> list[str]:
    """The worker's queues its caller may still serve (checked once per claim request)."""
    with ctx.db.read() as conn:
        worker = workers_repo.get_row(conn, worker_id)
        queue_ids = servable(conn, ctx.settings, caller, list(worker.queues))
    if not queue_ids:
        raise Forbidden(f"{caller.name} may no longer serve any queue of worker {worker.name}")
    return queue_ids


def _try_claim(ctx: ServerContext, worker_id: str, queue_ids: list[str]) -> dict[str, Any] | None:
    with ctx.db.read() as conn:
        worker = workers_repo.get_row(conn, worker_id)
        queue_ids = [q for q in worker.queues if q in queue_ids]
        if not queues_repo.has_entries(conn, queue_ids):
            return None
    with ctx.db.write() as conn:
        task_id = queues_repo.claim(
            conn, worker_id, queue_ids, ctx.settings.lease_seconds, worker.limits
        )
        return tasks_repo.get(conn, task_id) if task_id else None


@router.post("/{worker_id}/claim", response_model=None)
async def claim(
    worker_id: str,
    request: Request,
    caller: Annotated[Caller, can("worker.serve")],
    ctx: Ctx,
    body: ClaimIn | None = None,
) -> dict[str, Any] | Response:
    """Long-poll: answer as soon as a task can be claimed, else 204 after the timeout.

    A worker that hung up (Ctrl-C while waiting) claims nothing: a task taken for a gone
    client would sit in_progress until its lease ran out.
    """
    deadline = time.monotonic() + (body.timeout if body else 20.0)
    queue_ids = await run_in_threadpool(_servable, ctx, caller, worker_id)
    while True:
        if await request.is_disconnected():
            return Response(status_code=204)
        seen = ctx.wakeup.generation
        task = await run_in_threadpool(_try_claim, ctx, worker_id, queue_ids)
        if task is not None:
            return task
        left = deadline - time.monotonic()
        if left <= 0:
            return Response(status_code=204)
        await ctx.wakeup.wait(seen, min(RECHECK_SECONDS, left))


@router.delete("/{worker_id}", status_code=204)
def unregister(
    worker_id: str, caller: Annotated[Caller, can("worker.manage")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        workers_repo.unregister(conn, worker_id)
    return Response(status_code=204)

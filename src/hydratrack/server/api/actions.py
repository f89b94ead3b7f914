"""Task actions: clone, enqueue, dequeue, abort, reset, publish, archive, runner status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from hydratrack.server.api.models import Name, Strict, dump
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import lifecycle
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.status import TaskStatus

router = APIRouter(prefix="/tasks/{task_id}", tags=["task actions"])


class CloneIn(Strict):
    name: Name | None = None
    project: Name | None = None
    comment: str | None = None


class EnqueueIn(Strict):
    queue: Name = "default"
    priority: int = 0


class AbortIn(Strict):
    reason: str | None = None


class ArchiveIn(Strict):
    archived: bool = True


class StatusIn(Strict):
    status: TaskStatus
    message: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=10_000)
    # when the run really ended (seconds since the epoch): a spooled run's status, replayed
    # by `hydratrack sync` later, keeps the run's end time. Never later than now.
    ended: float | None = Field(default=None, ge=0, le=253_402_300_799)


class Empty(Strict):
    pass


@router.post("/clone", status_code=201)
def clone(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: CloneIn | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return tasks_repo.clone(conn, caller.id, task_id, dump(body) if body else {})


@router.post("/enqueue")
def enqueue(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: EnqueueIn | None = None
) -> dict[str, Any]:
    body = body or EnqueueIn()
    with ctx.db.write() as conn:
        lifecycle.enqueue(conn, task_id, body.queue, body.priority)
        out = tasks_repo.get(conn, task_id)
    ctx.wakeup.notify()
    return out


@router.post("/dequeue")
def dequeue(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: Empty | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        lifecycle.dequeue(conn, task_id)
        return tasks_repo.get(conn, task_id)


@router.post("/abort")
def abort(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: AbortIn | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        lifecycle.abort(conn, task_id, body.reason if body else None)
        return tasks_repo.get(conn, task_id)


@router.post("/reset")
def reset(task_id: str, caller: CurrentUser, ctx: Ctx, body: Empty | None = None) -> dict[str, Any]:
    with ctx.db.write() as conn:
        uris = artifacts_repo.uris(conn, task_id)
        lifecycle.reset(conn, task_id)
        out = tasks_repo.get(conn, task_id)
    for uri in uris:
        ctx.files.delete(uri)
    return out


@router.post("/publish")
def publish(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: Empty | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        lifecycle.publish(conn, task_id)
        return tasks_repo.get(conn, task_id)


@router.post("/archive")
def archive(
    task_id: str, caller: CurrentUser, ctx: Ctx, body: ArchiveIn | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        lifecycle.archive(conn, task_id, body.archived if body else True)
        return tasks_repo.get(conn, task_id)


@router.post("/status")
async def set_status(task_id: str, body: StatusIn, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """(async, the work in the thread pool: one thread hop, see ``POST /tasks``)"""
    return await run_in_threadpool(_set_status, ctx, task_id, body)


def _set_status(ctx: Any, task_id: str, body: StatusIn) -> dict[str, Any]:
    with ctx.db.write() as conn:
        row = lifecycle.set_status(
            conn, task_id, body.status, body.message, body.reason, ended=body.ended
        )
        return tasks_repo.full_view(conn, row)

"""Task actions: clone, enqueue, dequeue, abort, reset, publish, archive, runner status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from hydratrack.server.api.models import Name, Strict, dump
from hydratrack.server.api.task_access import change_task
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import Conflict
from hydratrack.server.permissions import allowed_in, can, check_in, check_task_target
from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import lifecycle
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store import users as users_repo
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
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx, body: CloneIn | None = None
) -> dict[str, Any]:
    changes = dump(body) if body else {}
    with ctx.db.write() as conn:
        target = changes.get("project")
        check_task_target(
            conn,
            ctx.settings,
            caller,
            {"project": target}
            if target
            else {"project_id": tasks_repo.get_row(conn, task_id).project_id},
        )
        # a reader who may not see the source's secrets gets a copy without them: running
        # the copy (their own task) would hand them the values (``?unmasked``, its code)
        mine = allowed_in(conn, ctx.settings, caller, "task.secrets", "task", task_id)
        hide = None if mine else ctx.mask.task
        return ctx.mask.task(tasks_repo.clone(conn, caller.id, task_id, changes, hide))


@router.post("/enqueue")
def enqueue(
    task_id: str,
    caller: Annotated[Caller, can("task.edit")],
    ctx: Ctx,
    body: EnqueueIn | None = None,
) -> dict[str, Any]:
    body = body or EnqueueIn()
    with ctx.db.write() as conn:
        check_in(conn, ctx.settings, caller, "queue.enqueue", "queue", body.queue)
        lifecycle.enqueue(conn, task_id, body.queue, body.priority)
        out = tasks_repo.get(conn, task_id)
    ctx.wakeup.notify()
    return ctx.mask.task(out)


@router.post("/dequeue")
def dequeue(
    task_id: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx, body: Empty | None = None
) -> dict[str, Any]:
    return ctx.mask.task(change_task(ctx, task_id, lambda conn: lifecycle.dequeue(conn, task_id)))


@router.post("/abort")
def abort(
    task_id: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx, body: AbortIn | None = None
) -> dict[str, Any]:
    reason = body.reason if body else None
    return ctx.mask.task(
        change_task(ctx, task_id, lambda conn: lifecycle.abort(conn, task_id, reason))
    )


@router.post("/reset")
def reset(
    task_id: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx, body: Empty | None = None
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        uris = artifacts_repo.uris(conn, task_id)
        lifecycle.reset(conn, task_id)
        out = tasks_repo.get(conn, task_id)
    for uri in uris:
        ctx.files.delete(uri)
    return ctx.mask.task(out)


@router.post("/publish")
def publish(
    task_id: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx, body: Empty | None = None
) -> dict[str, Any]:
    return ctx.mask.task(change_task(ctx, task_id, lambda conn: lifecycle.publish(conn, task_id)))


@router.post("/archive")
def archive(
    task_id: str,
    caller: Annotated[Caller, can("task.edit")],
    ctx: Ctx,
    body: ArchiveIn | None = None,
) -> dict[str, Any]:
    archived = body.archived if body else True
    return ctx.mask.task(
        change_task(ctx, task_id, lambda conn: lifecycle.archive(conn, task_id, archived))
    )


@router.post("/status")
async def set_status(
    task_id: str, body: StatusIn, caller: Annotated[Caller, can("task.write")], ctx: Ctx
) -> dict[str, Any]:
    """(async, the work in the thread pool: one thread hop, see ``POST /tasks``)"""
    return await run_in_threadpool(_set_status, ctx, task_id, body)


def _set_status(ctx: ServerContext, task_id: str, body: StatusIn) -> dict[str, Any]:
    with ctx.db.write() as conn:
        row = lifecycle.set_status(
            conn, task_id, body.status, body.message, body.reason, ended=body.ended
        )
        out = tasks_repo.full_view(conn, row)
        revoked = users_repo.revoke_task_tokens(conn, task_id) if body.status.is_final else []
    for key in revoked:
        ctx.keys.drop(key)
    return ctx.mask.task(out)


@router.post("/token", status_code=201)
def task_token(
    task_id: str, caller: Annotated[Caller, can("task.token")], ctx: Ctx, body: Empty | None = None
) -> dict[str, str]:
    """A key pair for the running task's own process (its agent passes it on instead of
    its own): it reads and writes that task alone, and ends with the task."""
    with ctx.db.write() as conn:
        row = tasks_repo.get_row(conn, task_id)
        if row.status != TaskStatus.IN_PROGRESS.value:
            raise Conflict(f"task {task_id} is {row.status}, not in_progress")
        token = users_repo.create_task_token(conn, task_id, row.user_id or caller.id)
    return {"access_key": token["access_key"], "secret_key": token["secret_key"]}

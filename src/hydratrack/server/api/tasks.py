"""``/tasks``: list (filters, paging), create (idempotent by id; may be finished at once),
read, patch, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from hydratrack.server import limits
from hydratrack.server.api.models import TaskIn, TaskPatch, dump
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import BadRequest, Forbidden
from hydratrack.server.permissions import can, check_task_target, list_limited_to, permitted
from hydratrack.server.secrets import may_read_secrets
from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import task_list
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/tasks", tags=["tasks"])

Many = Annotated[list[str], Query()]


def _csv(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@router.get("")
def list_tasks(
    caller: Annotated[Caller, can("server.read")],
    ctx: Ctx,
    project: str | None = None,
    project_id: str | None = None,
    status: Many = [],  # noqa: B006
    name: str | None = None,
    tag: Many = [],  # noqa: B006
    q: str | None = None,
    param: Many = [],  # noqa: B006
    parent: str | None = None,
    archived: bool | None = False,
    order_by: str = "-created",
    offset: Annotated[int, Query(ge=0, le=limits.INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    params: Many = [],  # noqa: B006
    metrics: Many = [],  # noqa: B006
) -> dict[str, Any]:
    f = task_list.TaskFilter(
        project=project,
        project_id=project_id,
        status=_csv(status),
        name=name,
        tag=tag,
        q=q,
        param=param,
        parent=parent,
        archived=archived,
        order_by=order_by,
        offset=offset,
        limit=limit,
        params=_csv(params),
        metrics=_csv(metrics),
        readable_by=list_limited_to(caller, ctx.settings.project_access),
    )
    for item in f.param:  # a filter on a secret's value would tell the value
        name = item.partition("=")[0].partition("/")[2]
        if name and ctx.mask.is_secret(name):
            raise BadRequest(f"cannot filter on {name}: its values are secret (--secret-pattern)")
    with ctx.db.read() as conn:
        items, total = task_list.list_(conn, f)
    return {"items": [ctx.mask.task(i) for i in items], "total": total}


@router.post("", status_code=201)
async def create_task(body: TaskIn, caller: Annotated[Caller, can("task.create")], ctx: Ctx) -> Any:
    """(async, the work in the thread pool: FastAPI would check a plain function's answer
    in a second thread hop; the SDK waits for this request at a run's exit)"""
    task, created = await run_in_threadpool(_create, ctx, caller, dump(body))
    task = ctx.mask.task(task)
    return task if created else JSONResponse(task, status_code=200)


def _create(ctx: Any, caller: Caller, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    with ctx.db.write() as conn:
        check_task_target(conn, ctx.settings, caller, body)
        return tasks_repo.create(conn, caller.id, body, caller.name)


@router.get("/{task_id}")
def get_task(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx, unmasked: bool = False
) -> dict[str, Any]:
    """Secret values read ``********`` (server/secrets.py); ``?unmasked=true`` gives the
    real ones to the process running the task: its task token, the key its worker is bound
    to, or a key pair that may edit it (``hydratrack rerun``), while it is in progress."""
    with ctx.db.read() as conn:
        task = tasks_repo.get(conn, task_id)
    if not unmasked:
        return ctx.mask.task(task)
    if not (may_read_secrets(caller, task) and permitted(ctx, caller, "task.secrets", task_id)):
        raise Forbidden("unmasked secrets are for the process running the task (a key pair)")
    return task


@router.patch("/{task_id}")
async def patch_task(
    task_id: str, body: TaskPatch, caller: Annotated[Caller, can("task.write")], ctx: Ctx
) -> dict[str, Any]:
    """(async, one thread hop: a run sends its late script capture this way)"""
    changes = {k: v for k, v in dump(body).items() if v is not None}
    return await run_in_threadpool(_patch, ctx, task_id, changes)


def _patch(ctx: ServerContext, task_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return ctx.mask.task(tasks_repo.patch(conn, task_id, changes))


@router.delete("/{task_id}", status_code=204)
def delete_task(task_id: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        uris = artifacts_repo.uris(conn, task_id)
        tasks_repo.delete_(conn, task_id)
        revoked = users_repo.revoke_task_tokens(conn, task_id)
    for key in revoked:
        ctx.keys.drop(key)
    for uri in uris:
        ctx.files.delete(uri)
    return Response(status_code=204)

"""``/tasks/{id}/artifacts``: list, upload (multipart), download.

Answers name each file by its download ``url`` (this API's path), never by where the
server keeps it: a server path tells clients about the server's disk.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from hydratrack.server import limits
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.errors import ApiProblem, NotFound
from hydratrack.server.permissions import can
from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import tasks as tasks_repo

router = APIRouter(prefix="/tasks/{task_id}/artifacts", tags=["artifacts"])


def public(task_id: str, art: dict[str, Any]) -> dict[str, Any]:
    """An artifact record as answered: the stored ``uri`` replaced by its download URL."""
    out = {k: v for k, v in art.items() if k != "uri"}
    out["url"] = f"/api/v1/tasks/{task_id}/artifacts/{quote(art['name'], safe='')}/file"
    return out


def _metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # (nested beyond Python's recursion limit)
        raise ApiProblem(
            422,
            "validation_error",
            f"metadata: not valid JSON: {exc}",
            [{"field": "body.metadata", "message": "not valid JSON"}],
        ) from None
    if not isinstance(value, dict):
        raise ApiProblem(
            422,
            "validation_error",
            "metadata: must be a JSON object",
            [{"field": "body.metadata", "message": "must be a JSON object"}],
        )
    return dict(limits.check(value, "body", "metadata"))


@router.get("")
def list_artifacts(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        items = [public(task_id, a) for a in artifacts_repo.list_(conn, task_id)]
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
async def upload_artifact(
    task_id: str,
    caller: Annotated[Caller, can("task.write")],
    ctx: Ctx,
    name: Annotated[str, Form(min_length=1, max_length=255)],
    file: Annotated[UploadFile, File()],
    metadata: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    meta = _metadata(metadata)
    limits.check(name, "body", "name")

    def store() -> dict[str, Any]:
        with ctx.db.read() as conn:
            tasks_repo.get_row(conn, task_id)
        saved = ctx.files.save(task_id, name, file.file, ctx.settings.max_artifact_bytes)
        try:
            with ctx.db.write() as conn:
                tasks_repo.lock_row(conn, task_id)  # one upload of a name at a time
                out, replaced = artifacts_repo.put(
                    conn,
                    task_id,
                    name,
                    uri=saved.uri,
                    size=saved.size,
                    sha256=saved.sha256,
                    content_type=file.content_type or "application/octet-stream",
                    metadata=meta,
                )
                tasks_repo.touch(conn, task_id)
        except Exception:
            ctx.files.delete(saved.uri)
            raise
        if replaced:
            ctx.files.delete(replaced)
        return public(task_id, out)

    return await run_in_threadpool(store)


@router.get("/{name:path}/file", response_model=None)
def download_artifact(
    task_id: str, name: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> FileResponse:
    with ctx.db.read() as conn:
        art = artifacts_repo.get(conn, task_id, name)
    try:
        path = ctx.files.path(art["uri"])
    except FileNotFoundError:
        raise NotFound("artifact file", f"{name} of task {task_id}") from None
    if not path.exists():
        raise NotFound("artifact file", f"{name} of task {task_id}")
    return FileResponse(path, media_type=art["content_type"], filename=name)

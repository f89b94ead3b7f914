"""``/projects``: list, create, read, rename/describe."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from hydratrack.server import limits
from hydratrack.server.api.models import Strict
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.store import projects as projects_repo

router = APIRouter(prefix="/projects", tags=["projects"])

Name = Annotated[str, Field(min_length=1, max_length=255)]


class ProjectIn(Strict):
    model_config = ConfigDict(extra="forbid")
    name: Name
    description: str = ""


class ProjectPatch(Strict):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    description: str | None = None


@router.get("")
def list_projects(
    caller: CurrentUser,
    ctx: Ctx,
    q: str | None = None,
    offset: Annotated[int, Query(ge=0, le=limits.INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items, total = projects_repo.list_(conn, q, offset, limit)
    return {"items": items, "total": total}


@router.post("", status_code=201)
def create_project(body: ProjectIn, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return projects_repo.create(conn, body.name, body.description)


@router.get("/{project_id}")
def get_project(project_id: str, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return projects_repo.get(conn, project_id)


@router.patch("/{project_id}")
def patch_project(
    project_id: str, body: ProjectPatch, caller: CurrentUser, ctx: Ctx
) -> dict[str, Any]:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with ctx.db.write() as conn:
        return projects_repo.patch(conn, project_id, changes)

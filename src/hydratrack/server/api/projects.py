"""``/projects``: list, create, read, rename/describe; per-user permissions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import ConfigDict, Field

from hydratrack.server import limits
from hydratrack.server.api.models import Strict
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.permissions import can, list_limited_to
from hydratrack.server.store import access as access_repo
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
    caller: Annotated[Caller, can("server.read")],
    ctx: Ctx,
    q: str | None = None,
    offset: Annotated[int, Query(ge=0, le=limits.INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    with ctx.db.read() as conn:
        only = list_limited_to(caller, ctx.settings.project_access)
        items, total = projects_repo.list_(conn, q, offset, limit, only)
    return {"items": items, "total": total}


@router.post("", status_code=201)
def create_project(
    body: ProjectIn, caller: Annotated[Caller, can("project.create")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return projects_repo.create(conn, body.name, body.description, owner_id=caller.id)


@router.get("/{project_id}")
def get_project(
    project_id: str, caller: Annotated[Caller, can("project.read")], ctx: Ctx
) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return projects_repo.get(conn, project_id)


@router.patch("/{project_id}")
def patch_project(
    project_id: str, body: ProjectPatch, caller: Annotated[Caller, can("project.edit")], ctx: Ctx
) -> dict[str, Any]:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with ctx.db.write() as conn:
        return projects_repo.patch(conn, project_id, changes)


class GrantIn(Strict):
    model_config = ConfigDict(extra="forbid")
    level: Literal["read", "edit", "manage"]


@router.get("/{project_id}/permissions")
def list_permissions(
    project_id: str, caller: Annotated[Caller, can("project.read")], ctx: Ctx
) -> dict[str, Any]:
    """The owner and the users granted a level on the project (beside the server's
    default for everyone, ``project_access``)."""
    with ctx.db.read() as conn:
        row = projects_repo.get_row(conn, project_id)
        items = access_repo.project_grants(conn, project_id)
    return {"owner_id": row.owner_id, "default": ctx.settings.project_access, "items": items}


@router.put("/{project_id}/permissions/{user}")
def grant(
    project_id: str,
    user: str,
    body: GrantIn,
    caller: Annotated[Caller, can("project.manage")],
    ctx: Ctx,
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        access_repo.grant_project(conn, project_id, user, body.level)
        items = access_repo.project_grants(conn, project_id)
    ctx.granted.clear()
    return {"items": items}


@router.delete("/{project_id}/permissions/{user}", status_code=204)
def revoke(
    project_id: str, user: str, caller: Annotated[Caller, can("project.manage")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        access_repo.revoke_project(conn, project_id, user)
    ctx.granted.clear()
    return Response(status_code=204)

"""``/users``: list and create users, set a user's role (admins only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.permissions import can
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/users", tags=["users"])

Role = Literal["admin", "member", "viewer"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^\s:]+$")
    password: str = Field(min_length=8, max_length=1000)
    role: Role | None = None
    is_admin: bool = False  # older clients: the same as role "admin"


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


@router.get("")
def list_users(caller: Annotated[Caller, can("users.admin")], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = users_repo.list_users(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def create_user(
    body: UserIn, caller: Annotated[Caller, can("users.admin")], ctx: Ctx
) -> dict[str, Any]:
    role = body.role or ("admin" if body.is_admin else "member")
    with ctx.db.write() as conn:
        return users_repo.create_user(conn, body.name, body.password, role)


@router.patch("/{user}")
def patch_user(
    user: str, body: UserPatch, caller: Annotated[Caller, can("users.admin")], ctx: Ctx
) -> dict[str, Any]:
    """Set a user's role (the last admin cannot lose it). Their cached key pairs keep the
    old role for at most the key cache's lifetime (``key_cache_seconds``)."""
    with ctx.db.write() as conn:
        out = users_repo.set_role(conn, user, body.role)
    ctx.keys.clear()
    ctx.granted.clear()
    return out

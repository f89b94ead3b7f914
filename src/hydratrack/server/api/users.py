"""``/users``: list and create users (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from hydratrack.server.api.models import Strict
from hydratrack.server.auth import AdminUser, Ctx
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/users", tags=["users"])


class UserIn(Strict):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^\s:]+$")
    password: str = Field(min_length=8, max_length=1000)
    is_admin: bool = False


@router.get("")
def list_users(caller: AdminUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        items = users_repo.list_users(conn)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def create_user(body: UserIn, caller: AdminUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        return users_repo.create_user(conn, body.name, body.password, body.is_admin)

"""``/users`` (admins only): users, their roles and lifecycle, every API key, every session.

Disabling a user ends its sessions and login links and makes its keys fail; deleting it
or setting its password ends its sessions and deletes its keys. On this server process
at once; other processes sharing the database refuse a key within their
``--key-cache-seconds`` (sessions are checked on every request, so everywhere at once).
A user is named by id or name in the path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import ConfigDict, Field

from hydratrack.server.api.models import Strict
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import BadRequest
from hydratrack.server.permissions import can
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[Caller, can("users.admin")]

Password = Field(min_length=8, max_length=1000)
Role = Literal["admin", "member", "viewer"]


class UserIn(Strict):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^\s:]+$")
    password: str = Password
    role: Role | None = None
    is_admin: bool = False  # older clients: the same as role "admin"


class UserPatch(Strict):
    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    role: Role | None = None


class PasswordIn(Strict):
    model_config = ConfigDict(extra="forbid")
    password: str = Password


def forget_keys(ctx: ServerContext, access_keys: list[str]) -> None:
    """Drop keys from this process's key cache (they were deleted or their user disabled)."""
    for key in access_keys:
        ctx.keys.drop(key)


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


# -- every key, every session (declared before /{user}: fixed paths first) -------------
@router.get("/keys")
def list_keys(caller: Admin, ctx: Ctx, user: str | None = None) -> dict[str, Any]:
    with ctx.db.read() as conn:
        user_id = users_repo.find_user(conn, user).id if user else None
        items = users_repo.list_all_keys(conn, user_id)
    return {"items": items, "total": len(items)}


@router.delete("/keys/{access_key}", status_code=204)
def revoke_key(access_key: str, caller: Admin, ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        users_repo.revoke_key(conn, access_key)
    forget_keys(ctx, [access_key])
    return Response(status_code=204)


@router.get("/sessions")
def list_sessions(caller: Admin, ctx: Ctx, user: str | None = None) -> dict[str, Any]:
    s = ctx.settings
    with ctx.db.read() as conn:
        user_id = users_repo.find_user(conn, user).id if user else None
        items = users_repo.list_sessions(conn, user_id, s.session_idle, s.session_max_age)
    return {"items": items, "total": len(items)}


@router.delete("/sessions/{session_id}", status_code=204)
def revoke_session(session_id: str, caller: Admin, ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        users_repo.revoke_session(conn, session_id)
    return Response(status_code=204)


# -- one user ---------------------------------------------------------------------------
@router.patch("/{user}")
def patch_user(user: str, body: UserPatch, caller: Admin, ctx: Ctx) -> dict[str, Any]:
    """``{"disabled": true}`` disables (the last enabled admin cannot be), ``false`` enables;
    ``{"role": ...}`` sets the role (the last admin cannot lose it). Their cached key pairs
    keep the old role on other server processes for at most ``key_cache_seconds``."""
    if body.disabled is None and body.role is None:
        raise BadRequest("nothing to change: send disabled and/or role")
    with ctx.db.write() as conn:
        out = users_repo.user_view(users_repo.find_user(conn, user))
        if body.role is not None:
            out = users_repo.set_role(conn, user, body.role)
        if body.disabled is not None:
            out = users_repo.set_disabled(conn, user, body.disabled)
        keys = users_repo.access_keys_of(conn, out["id"])
    forget_keys(ctx, keys)
    ctx.keys.clear()
    ctx.granted.clear()
    return out


@router.delete("/{user}", status_code=204)
def delete_user(user: str, caller: Admin, ctx: Ctx) -> Response:
    """Delete a user, its keys and sessions; its tasks, projects and queues stay."""
    with ctx.db.write() as conn:
        keys = users_repo.access_keys_of(conn, users_repo.find_user(conn, user).id)
        users_repo.delete_user(conn, user)
    forget_keys(ctx, keys)
    return Response(status_code=204)


@router.put("/{user}/password", status_code=204)
def reset_password(user: str, body: PasswordIn, caller: Admin, ctx: Ctx) -> Response:
    """Set a user's password; its sessions end and its API keys are deleted."""
    with ctx.db.write() as conn:
        keys = users_repo.set_password(conn, users_repo.find_user(conn, user).id, body.password)
    forget_keys(ctx, keys)
    return Response(status_code=204)

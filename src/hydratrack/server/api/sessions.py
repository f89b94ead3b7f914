"""``/auth``: UI login (password or one-click token), logout, who am I, API keys, new
one-click login links."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hydratrack.server.auth import SESSION_COOKIE, Ctx, authenticate
from hydratrack.server.context import Caller
from hydratrack.server.errors import BadRequest, Unauthorized
from hydratrack.server.permissions import can, check
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str | None = None
    password: str | None = None
    token: str | None = None


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=255)
    agent: bool = False  # a key that can only serve queues (hydratrack agent)


def _user(who: Any) -> dict[str, Any]:
    """A caller or a user row."""
    return {"id": who.id, "name": who.name, "role": who.role, "is_admin": who.role == "admin"}


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.write() as conn:
        if body.token:
            row = users_repo.use_login_token(conn, body.token)
            if row is None:
                raise Unauthorized("login link is unknown, used or expired")
        elif body.username and body.password:
            row = users_repo.user_by_password(conn, body.username, body.password)
            if row is None:
                raise Unauthorized("wrong user name or password")
        else:
            raise BadRequest("send username and password, or a login token")
        token, csrf = users_repo.create_session(conn, row.id)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=users_repo.SESSION_DAYS * 86400,
        path="/",
        secure=request.url.scheme == "https",
    )
    return {"user": _user(row), "csrf_token": csrf}


@router.post("/logout", status_code=204)
def logout(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        authenticate(request, ctx)  # CSRF applies: logout changes state
        with ctx.db.write() as conn:
            users_repo.delete_session(conn, token)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


@router.post("/login-link", status_code=201)
def create_login_link(caller: Annotated[Caller, can("self")], ctx: Ctx) -> dict[str, Any]:
    """A new single-use UI login link for the caller (as printed at first start): for a
    key pair's owner who lost the first one, or to open the UI on another machine. The
    answer has the path only; the client puts it after the address it reached us at."""
    with ctx.db.write() as conn:
        token = users_repo.create_login_token(conn, caller.id)
    return {
        "path": f"/login?token={token}",
        "user": _user(caller),
        "expires_in": users_repo.LOGIN_TOKEN_HOURS * 3600,
    }


@router.get("/me")
def me(caller: Annotated[Caller, can("self.read")]) -> dict[str, Any]:
    return {
        "user": _user(caller),
        "csrf_token": caller.csrf_token,
        "credential": {"scope": caller.scope, "task_id": caller.task_id},
    }


@router.get("/keys")
def list_keys(caller: Annotated[Caller, can("self")], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return {"items": users_repo.list_keys(conn, caller.id)}


@router.post("/keys", status_code=201)
def create_key(
    caller: Annotated[Caller, can("self")], ctx: Ctx, body: KeyIn | None = None
) -> dict[str, str]:
    agent = bool(body and body.agent)
    if agent:
        check(caller, "agent.create")
    label = (body.label if body else None) or ("agent" if agent else "")
    with ctx.db.write() as conn:
        return users_repo.create_key(conn, caller.id, label, "agent" if agent else "user")


@router.delete("/keys/{access_key}", status_code=204)
def delete_key(access_key: str, caller: Annotated[Caller, can("self")], ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        users_repo.delete_key(conn, caller.id, access_key)
    ctx.keys.drop(access_key)
    return Response(status_code=204)

"""``/auth``: UI login (password or one-click token), logout, who am I, API keys, new
one-click login links."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field

from hydratrack.server import audit
from hydratrack.server.api.models import Strict
from hydratrack.server.api.users import forget_keys
from hydratrack.server.auth import SESSION_COOKIE, Ctx, authenticate, client_address
from hydratrack.server.context import Caller
from hydratrack.server.errors import BadRequest, TooManyRequests, Unauthorized
from hydratrack.server.permissions import can, check
from hydratrack.server.store import users as users_repo

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(Strict):
    model_config = ConfigDict(extra="forbid")
    username: str | None = None
    password: str | None = None
    token: str | None = None


class PasswordChange(Strict):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)


class KeyIn(Strict):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=255)
    agent: bool = False  # a key that can only serve queues (hydratrack agent)


def _user(who: Any) -> dict[str, Any]:
    """A caller or a user row."""
    return {"id": who.id, "name": who.name, "role": who.role, "is_admin": who.role == "admin"}


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    """Failed attempts are throttled per user name and client address (server/throttle.py):
    over the limit, every attempt (right or wrong) answers 429 with ``Retry-After``."""
    if not body.token and not (body.username and body.password):
        raise BadRequest("send username and password, or a login token")
    name, address = (None if body.token else body.username), client_address(request)
    wait = ctx.logins.retry_after(name, address)
    if wait:
        raise TooManyRequests(wait)
    with ctx.db.write() as conn:
        if body.token:
            row = users_repo.use_login_token(conn, body.token)
        else:
            row = users_repo.user_by_password(conn, body.username or "", body.password or "")
        if row is not None:
            token, csrf = users_repo.create_session(conn, row.id, ctx.settings.session_max_age)
    audit.record_login(ctx, address, name, row)
    if row is None:
        ctx.logins.failed(name, address)
        raise Unauthorized(
            "login link is unknown, used or expired"
            if body.token
            else "wrong user name or password"
        )
    ctx.logins.succeeded(name)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=int(ctx.settings.session_max_age.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
    )
    return {"user": _user(row), "csrf_token": csrf}


@router.post("/logout", status_code=204)
def logout(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        request.state.caller = authenticate(request, ctx)  # CSRF applies (and audit.py)
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


@router.put("/password", status_code=204)
def change_password(
    body: PasswordChange, request: Request, caller: Annotated[Caller, can("self")], ctx: Ctx
) -> Response:
    """The caller's own password, given the old one (failures throttled as logins). Every
    session (this one too) and every API key of the caller end."""
    address = client_address(request)
    wait = ctx.logins.retry_after(caller.name, address)
    if wait:
        raise TooManyRequests(wait)
    with ctx.db.write() as conn:
        if users_repo.user_by_password(conn, caller.name, body.old_password) is None:
            ok = False
        else:
            ok = True
            keys = users_repo.set_password(conn, caller.id, body.new_password)
    if not ok:
        ctx.logins.failed(caller.name, address)
        raise BadRequest("the old password is wrong")
    forget_keys(ctx, keys)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


@router.get("/sessions")
def my_sessions(
    request: Request, caller: Annotated[Caller, can("self")], ctx: Ctx
) -> dict[str, Any]:
    """The caller's live sessions; ``current`` marks the one this request came with."""
    s = ctx.settings
    with ctx.db.read() as conn:
        items = users_repo.list_sessions(conn, caller.id, s.session_idle, s.session_max_age)
    token = request.cookies.get(SESSION_COOKIE)
    mine = users_repo.token_hash(token) if token and caller.via == "session" else None
    for item in items:
        item["current"] = item["id"] == mine
    return {"items": items, "total": len(items)}


@router.delete("/sessions/{session_id}", status_code=204)
def end_my_session(session_id: str, caller: Annotated[Caller, can("self")], ctx: Ctx) -> Response:
    with ctx.db.write() as conn:
        users_repo.revoke_session(conn, session_id, caller.id)
    return Response(status_code=204)

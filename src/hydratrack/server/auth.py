"""Who is calling: HTTP Basic with an API key pair, or the UI's session cookie.

Missing and wrong credentials give the same 401 message, whichever part was wrong.
State-changing requests authenticated by the session cookie must carry the session's
``X-CSRF-Token``; Basic-auth requests need no such header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from hydratrack.server.context import Caller, ServerContext, get_ctx
from hydratrack.server.errors import Forbidden, TooManyRequests, Unauthorized
from hydratrack.server.store import users as users_repo
from hydratrack.server.store.clock import utcnow

SESSION_COOKIE = "hydratrack_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_TOUCH_EVERY = 60.0


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = text.partition(":")
    return (key, secret) if sep and key and secret else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _cached(ctx: ServerContext, key: str, secret: str) -> Caller | None:
    """A key pair verified less than the cache's lifetime ago, when no write is due."""
    caller = ctx.keys.get((key, _digest(secret)))
    if caller is None or time.monotonic() - ctx.key_last_touch.get(key, 0.0) > _TOUCH_EVERY:
        return None
    return caller


def _by_key(ctx: ServerContext, key: str, secret: str) -> Caller | None:
    digest = _digest(secret)
    caller = ctx.keys.get((key, digest))
    if caller is None:
        with ctx.db.read() as conn:
            row = users_repo.user_by_key(conn, key, secret)
        if row is None:
            return None
        caller = Caller(
            row.id,
            row.name,
            row.role,
            "key",
            access_key=key,
            scope=row.scope,
            task_id=row.task_id,
        )
        ctx.keys.put((key, digest), caller)
    now = time.monotonic()
    if now - ctx.key_last_touch.get(key, 0.0) > _TOUCH_EVERY:
        ctx.key_last_touch[key] = now
        with ctx.db.write() as conn:
            users_repo.touch_key(conn, key)
    return caller


def _by_session(ctx: ServerContext, token: str) -> Caller | None:
    """A live session (idle and absolute lifetimes: server settings); its ``last_seen``
    is written at most once a minute (more often only for an idle limit under 4 min)."""
    idle, max_age = ctx.settings.session_idle, ctx.settings.session_max_age
    with ctx.db.read() as conn:
        found = users_repo.session_user(conn, token, idle, max_age)
    if found is None:
        return None
    row, csrf, seen = found
    if (utcnow() - seen).total_seconds() > min(_TOUCH_EVERY, idle.total_seconds() / 4):
        with ctx.db.write() as conn:
            users_repo.touch_session(conn, token)
    return Caller(row.id, row.name, row.role, "session", csrf_token=csrf)


def client_address(request: Request) -> str | None:
    """The peer's address; from a proxy uvicorn trusts, its ``X-Forwarded-For`` (README
    "Operations")."""
    return request.client.host if request.client else None


def authenticate(request: Request, ctx: ServerContext) -> Caller:
    header = request.headers.get("authorization")
    if header:
        pair = _basic(header)
        key, address = (pair[0] if pair else None), client_address(request)
        proof = _digest(":".join(pair)) if pair else None
        wait = ctx.secrets.retry_after(key, address, proof)  # server/throttle.py
        if wait:
            raise TooManyRequests(wait)
        caller = _by_key(ctx, *pair) if pair else None
        if caller is None:
            ctx.secrets.failed(key, address)
            raise Unauthorized()
        ctx.secrets.succeeded(None, proof)  # a guesser next to a busy key stays counted
        return caller
    token = request.cookies.get(SESSION_COOKIE)
    caller = _by_session(ctx, token) if token else None
    if caller is None:
        raise Unauthorized()
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not (caller.csrf_token and hmac.compare_digest(sent, caller.csrf_token)):
            raise Forbidden(f"missing or wrong {CSRF_HEADER} header (get it from /api/v1/auth/me)")
    return caller


async def require_user(request: Request, ctx: Annotated[ServerContext, Depends(get_ctx)]) -> Caller:
    """The caller. A key pair found in the cache is checked on the event loop (no thread
    hop: this runs on every request); anything that reads or writes the database runs
    in the thread pool, so a busy database never blocks the loop."""
    header = request.headers.get("authorization")
    pair = _basic(header) if header else None
    caller = _cached(ctx, *pair) if pair else None
    if caller is None:
        caller = await run_in_threadpool(authenticate, request, ctx)
    request.state.caller = caller
    return caller


async def require_admin(caller: Annotated[Caller, Depends(require_user)]) -> Caller:
    if not caller.is_admin:
        raise Forbidden(f"user {caller.name} is not an admin")
    return caller


CurrentUser = Annotated[Caller, Depends(require_user)]
AdminUser = Annotated[Caller, Depends(require_admin)]
Ctx = Annotated[ServerContext, Depends(get_ctx)]

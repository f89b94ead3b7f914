"""The audit log: which request is which action, and the middleware that records it.

One table, :data:`ROUTES`, maps every state-changing route (method, path under
``/api/v1``) to an :class:`Action`, or to :data:`DATA` for what a run or an agent reports
as it works (events, status, heartbeats, claims): those are not audited and pay one
dictionary lookup and a thin wrapper around receive and send (about 6 µs). ``tests/api/test_audit.py`` fails when a route is in neither.

:class:`AuditLog` (an ASGI middleware) records an action after its route answered 2xx:
the caller (user id and name, key or session, client address; set by ``auth.py``), the
action, its target (the object's id from the answer, else the path parameter) and a
small detail: the names of the fields sent and the values of the few fields the table
lists (``show``), never other values, so no password, key or config value is stored.

When: *immediately after* the action's own transaction, before the client gets its
answer. A client that saw success knows the record is stored; a server that dies between
the two commits (a millisecond) loses the record of that one action. If the record
cannot be written the answer still goes out and the entry is logged at ERROR (logger
``hydratrack.audit``) in full, so it is not lost. A request without a caller (a sign-out
without a session) changes nothing and is not recorded, so anonymous requests cannot
fill the log. Logins, right or wrong, are recorded by the login route itself
(:func:`record_login`): a failed one has no caller.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Awaitable, Callable

from fastapi.concurrency import run_in_threadpool

from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.store import audit as audit_repo

log = logging.getLogger("hydratrack.audit")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1"  # where app.py mounts the API
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_BODY = 64 * 1024  # larger (or non-JSON) bodies: no field names in the detail
_MAX_SHOWN = 200  # characters of a shown value


@dataclasses.dataclass(frozen=True)
class Action:
    """``name``: the action, or a function of the JSON body giving it. ``target``: the
    kind of object; ``param``: the path parameter naming it (``"@caller"``: the caller
    itself); ``answer``: the key of the answer holding the target's id (wins over the
    path, which may name it); ``created``: the key of the answer holding a new object's
    id (``detail["new_id"]``, a clone's); ``show``: body fields whose values go into the
    detail (never a secret's)."""

    name: str | Callable[[dict[str, Any]], str]
    target: str | None = None
    param: str | None = None
    answer: str | None = None
    show: tuple[str, ...] = ()
    created: str | None = None

    def action(self, body: dict[str, Any]) -> str:
        return self.name if isinstance(self.name, str) else self.name(body)


DATA = None  # a route that reports data, not an action: not audited
BY_ROUTE = Action("(recorded by the route)")  # the route records itself (login)


def _user_patch(body: dict[str, Any]) -> str:
    disabled = body.get("disabled")
    if disabled is True:
        return "user.disable"
    if disabled is False:
        return "user.enable"
    return "user.role" if "role" in body else "user.edit"


def _task(name: str, show: tuple[str, ...] = (), created: str | None = None) -> Action:
    return Action(name, "task", "task_id", None, show, created)


ROUTES: dict[tuple[str, str], Action | None] = {
    # tasks
    ("POST", "/tasks"): Action("task.create", "task", answer="id", show=("name", "project")),
    ("PATCH", "/tasks/{task_id}"): _task("task.edit", show=("name",)),
    ("DELETE", "/tasks/{task_id}"): _task("task.delete"),
    ("POST", "/tasks/{task_id}/clone"): _task("task.clone", ("name",), created="id"),
    ("POST", "/tasks/{task_id}/enqueue"): _task("task.enqueue", show=("queue", "priority")),
    ("POST", "/tasks/{task_id}/dequeue"): _task("task.dequeue"),
    ("POST", "/tasks/{task_id}/abort"): _task("task.abort", show=("reason",)),
    ("POST", "/tasks/{task_id}/reset"): _task("task.reset"),
    ("POST", "/tasks/{task_id}/publish"): _task("task.publish"),
    ("POST", "/tasks/{task_id}/archive"): _task("task.archive", show=("archived",)),
    ("PATCH", "/tasks/{task_id}/hyperparams"): _task("task.hyperparams"),
    ("PUT", "/tasks/{task_id}/hyperparams/{section}"): _task("task.hyperparams"),
    ("PUT", "/tasks/{task_id}/configuration/{name}"): _task("task.configuration"),
    ("DELETE", "/tasks/{task_id}/configuration/{name}"): _task("task.configuration.delete"),
    ("POST", "/tasks/{task_id}/artifacts"): _task("task.artifact"),
    ("POST", "/tasks/{task_id}/events"): DATA,  # scalars, console lines, texts
    ("POST", "/tasks/{task_id}/status"): DATA,  # a run's own progress report
    ("POST", "/tasks/{task_id}/token"): _task("task.token"),  # (never the secret it answers)
    # agents
    ("POST", "/workers"): Action("worker.register", "worker", answer="id", show=("name",)),
    ("DELETE", "/workers/{worker_id}"): Action("worker.unregister", "worker", "worker_id"),
    ("POST", "/workers/{worker_id}/heartbeat"): DATA,
    ("POST", "/workers/{worker_id}/claim"): DATA,
    # queues, projects
    ("POST", "/queues"): Action("queue.create", "queue", answer="id", show=("name",)),
    ("PATCH", "/queues/{id_or_name}"): Action(
        "queue.update",
        "queue",
        "id_or_name",
        "id",
        ("access", "lost_worker_policy", "lost_worker_retries"),
    ),
    ("DELETE", "/queues/{id_or_name}"): Action("queue.delete", "queue", "id_or_name"),
    ("PUT", "/queues/{id_or_name}/permissions/{user}"): Action(
        "permission.grant", "queue", "id_or_name", show=("level",)
    ),
    ("DELETE", "/queues/{id_or_name}/permissions/{user}"): Action(
        "permission.revoke", "queue", "id_or_name"
    ),
    ("POST", "/projects"): Action("project.create", "project", answer="id", show=("name",)),
    ("PATCH", "/projects/{project_id}"): Action("project.edit", "project", "project_id"),
    ("PUT", "/projects/{project_id}/permissions/{user}"): Action(
        "permission.grant", "project", "project_id", show=("level",)
    ),
    ("DELETE", "/projects/{project_id}/permissions/{user}"): Action(
        "permission.revoke", "project", "project_id"
    ),
    # the caller's own credentials
    ("POST", "/auth/login"): BY_ROUTE,
    ("POST", "/auth/logout"): Action("logout", "user", "@caller"),
    ("POST", "/auth/login-link"): Action("login_link.create", "user", "@caller"),
    ("POST", "/auth/keys"): Action(
        "key.create", "key", answer="access_key", show=("label", "agent")
    ),
    ("DELETE", "/auth/keys/{access_key}"): Action("key.revoke", "key", "access_key"),
    ("PUT", "/auth/password"): Action("password.change", "user", "@caller"),
    ("DELETE", "/auth/sessions/{session_id}"): Action("session.revoke", "session", "session_id"),
    # users (admins)
    ("POST", "/users"): Action(
        "user.create", "user", answer="id", show=("name", "role", "is_admin")
    ),
    ("PATCH", "/users/{user}"): Action(
        _user_patch, "user", "user", "id", ("disabled", "role", "is_admin")
    ),
    ("DELETE", "/users/{user}"): Action("user.delete", "user", "user"),
    ("PUT", "/users/{user}/password"): Action("user.password_reset", "user", "user"),
    ("DELETE", "/users/keys/{access_key}"): Action("key.revoke", "key", "access_key"),
    ("DELETE", "/users/sessions/{session_id}"): Action("session.revoke", "session", "session_id"),
}


def rule_for(method: str, path: str) -> Action | None:
    """The route's action; a route missing from the table is recorded under its path
    (the test keeps the table complete, this keeps a forgotten route recorded)."""
    key = (method, path.removeprefix(API_PREFIX))
    if key in ROUTES:
        return ROUTES[key]
    return Action(f"{method} {key[1]}")


def _json(data: bytes) -> dict[str, Any]:
    if not data or len(data) > _MAX_BODY:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_SHOWN:
        return value[:_MAX_SHOWN] + "…"
    return value if isinstance(value, (str, int, float, bool)) or value is None else "…"


def entry_for(
    rule: Action, scope: Scope, body: dict[str, Any], answer: dict[str, Any]
) -> dict[str, Any]:
    """The record of one successful request (a pure function of what it saw)."""
    caller: Caller | None = (scope.get("state") or {}).get("caller")
    params: dict[str, Any] = dict(scope.get("path_params") or {})
    detail: dict[str, Any] = {}
    if body:
        detail["fields"] = sorted(str(k)[:64] for k in body)[:30]
    for name in rule.show:
        if name in body:
            detail[name] = _shown(body[name])
    target_id: Any = None
    if rule.param == "@caller":
        target_id = caller.id if caller else None
    elif rule.param:
        target_id = params.pop(rule.param, None)
    named = answer.get(rule.answer) if rule.answer else None
    if isinstance(named, str):
        target_id = named
    created = answer.get(rule.created) if rule.created else None
    if isinstance(created, str):
        detail["new_id"] = created
    detail.update({k: _shown(v) for k, v in params.items()})  # e.g. the section's name
    client = scope.get("client")
    return {
        "user_id": caller.id if caller else None,
        "user_name": caller.name if caller else None,
        "via": caller.via if caller else None,
        "access_key": caller.access_key if caller else None,
        "address": client[0] if client else None,
        "action": rule.action(body),
        "target_type": rule.target,
        "target_id": target_id,
        "detail": detail,
    }


def store(ctx: ServerContext, entry: dict[str, Any]) -> None:
    """Write one entry in its own transaction; on failure log it in full (ERROR)."""
    try:
        with ctx.db.write() as conn:
            audit_repo.record(conn, entry)
    except Exception:
        log.exception("audit record not stored: %s", json.dumps(entry, default=str))


def record_login(
    ctx: ServerContext, address: str | None, name: str | None, user: Any | None
) -> None:
    """A login attempt: ``user`` the row signed in, or None (wrong password or link;
    ``name`` as typed, never the password)."""
    store(
        ctx,
        {
            "user_id": user.id if user else None,
            "user_name": user.name if user else name,
            "via": "session" if user else None,
            "address": address,
            "action": "login" if user else "login.failed",
            "target_type": "user",
            "target_id": user.id if user else None,
            "detail": {} if user else {"method": "password" if name else "link"},
        },
    )


class AuditLog:
    """Records the actions of :data:`ROUTES` (see the module's doc)."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        rule: Action | None = None
        looked_up = False
        sent = bytearray()
        held: Message | None = None
        answer = bytearray()

        def current_rule() -> Action | None:
            nonlocal rule, looked_up
            if not looked_up:
                route = scope.get("route")  # set by the router once it matched
                path = getattr(route, "path", None)
                rule = rule_for(scope["method"], path) if path else None
                looked_up = route is not None
            return None if rule is BY_ROUTE else rule

        async def audit_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and current_rule() is not None:
                if len(sent) <= _MAX_BODY:
                    sent.extend(message.get("body", b""))
            return message

        async def audit_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                who = (scope.get("state") or {}).get("caller")  # none: nothing to record
                if 200 <= message["status"] < 300 and who and current_rule() is not None:
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                r = current_rule()
                assert r is not None
                entry = entry_for(r, scope, _json(bytes(sent)), _json(bytes(answer)))
                await run_in_threadpool(store, self.ctx, entry)
                start, held = held, None
                await send(start)
                await send({"type": "http.response.body", "body": bytes(answer)})
                return
            await send(message)

        await self.app(scope, audit_receive, audit_send)

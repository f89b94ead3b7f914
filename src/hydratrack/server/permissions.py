"""Who may do what: one pure decision, :func:`allowed`, and the route dependency
:func:`can` that applies it. Every route declares its action with ``can("...")``.

Roles (on users): ``admin`` may do everything; ``member`` works in projects by level;
``viewer`` reads at most. Credentials narrow further (``Caller.scope``): an ``agent`` key
only serves its own workers (register, heartbeat, claim, report on the tasks its worker
runs, mint their task tokens); a ``task`` token reads and writes its one task.

A member's level on a project is the highest of: ``manage`` when they own it, the level
granted to them (``project_permissions``), and the server's default for everyone
(setting ``project_access``: none, read or edit). A viewer's level is at most ``read``.
The owner of a task may edit it wherever they can read its project.

Queues: enqueueing runs the task's code on the queue's agents, so it is a permission of
its own: admins, the queue's owner, and members when the queue's ``access`` is
``members``; otherwise users granted the queue (``queue_permissions``). Serving a queue
(an agent taking its tasks, their code and secrets) is narrower: admins, the owner and
granted users only.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Callable

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from hydratrack.server.auth import Ctx, require_user
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import Forbidden
from hydratrack.server.store import access as access_repo

NONE, READ, EDIT, MANAGE = 0, 1, 2, 3
LEVELS = {"none": NONE, "read": READ, "edit": EDIT, "manage": MANAGE}


@dataclasses.dataclass(frozen=True)
class Resource:
    """What a decision needs to know about the thing acted on (loaded by the store)."""

    kind: str = "server"  # server | project | task | queue | worker
    id: str | None = None
    owner_id: str | None = None  # the task's, queue's or worker's owner
    project_owner_id: str | None = None
    grant: str | None = None  # the caller's granted level on the project
    default: str = "read"  # the server's project_access
    queue_access: str = "members"
    queue_granted: bool = False
    worker_key: str | None = None  # the key the worker (running the task) is bound to


SERVER = Resource()


def list_limited_to(caller: Caller, default: str) -> str | None:
    """For lists: the user whose owned and granted projects alone are shown, or None
    when the server's default lets the caller read every project."""
    return None if caller.is_admin or default != "none" else caller.id


def project_level(caller: Caller, r: Resource) -> int:
    if caller.is_admin:
        return MANAGE
    if caller.scope != "user":
        return NONE
    level = max(LEVELS.get(r.grant or "none", NONE), LEVELS.get(r.default, NONE))
    if r.project_owner_id == caller.id:
        level = MANAGE
    return min(level, READ) if caller.role == "viewer" else level


def _person(caller: Caller) -> bool:
    return caller.scope == "user"


def _writer(caller: Caller) -> bool:
    return caller.scope == "user" and caller.role in ("admin", "member")


def _own_task(caller: Caller, r: Resource) -> bool:
    return caller.scope == "task" and r.kind == "task" and r.id == caller.task_id


def _runs_it(caller: Caller, r: Resource) -> bool:
    """The caller's key is the one the worker running this task (or this worker) is
    bound to."""
    return caller.scope != "task" and r.worker_key is not None and r.worker_key == caller.access_key


def _task_edit(caller: Caller, r: Resource) -> bool:
    if not _writer(caller):
        return False
    level = project_level(caller, r)
    return level >= EDIT or (level >= READ and r.owner_id == caller.id)


def _enqueue(caller: Caller, r: Resource) -> bool:
    if caller.is_admin:
        return True
    if not _writer(caller):
        return False
    return r.owner_id == caller.id or r.queue_access == "members" or r.queue_granted


def _serve(caller: Caller, r: Resource) -> bool:
    """Serving a queue (an agent registered on it) receives every task enqueued there, with
    its code and its configuration's real secret values, and reports its results: only
    admins, the queue's owner and users granted the queue may, through a person's or agent
    key. A queue's ``access`` of ``members`` opens enqueueing, never serving."""
    if caller.scope not in ("user", "agent") or caller.role not in ("admin", "member"):
        return False
    if caller.role == "admin":
        return True
    return r.owner_id == caller.id or r.queue_granted


RULES: dict[str, Callable[[Caller, Resource], bool]] = {
    # the caller's own account: keys, login links (people only)
    "self": lambda c, r: _person(c),
    "self.read": lambda c, r: True,
    "users.admin": lambda c, r: c.is_admin,
    "agent.create": lambda c, r: _writer(c),
    # reading lists and the server's queues and workers
    "server.read": lambda c, r: _person(c),
    "queue.read": lambda c, r: c.scope != "task",
    "worker.read": lambda c, r: c.scope != "task",
    "project.create": lambda c, r: _writer(c),
    "project.read": lambda c, r: project_level(c, r) >= READ,
    "project.edit": lambda c, r: _writer(c) and project_level(c, r) >= EDIT,
    "project.manage": lambda c, r: _writer(c) and project_level(c, r) >= MANAGE,
    # creating a task: in an existing project needs edit there; else creating one
    "task.create": lambda c, r: (
        _own_task(c, r)
        if c.scope == "task"
        else _writer(c) and (r.kind == "server" or project_level(c, r) >= EDIT)
    ),
    "task.read": lambda c, r: _own_task(c, r) or _runs_it(c, r) or project_level(c, r) >= READ,
    # outputs of a run: events, status, artifacts, its late script and config
    "task.write": lambda c, r: _own_task(c, r) or _runs_it(c, r) or _task_edit(c, r),
    # a person's changes: edit a draft, clone into, enqueue, abort, reset, delete ...
    "task.edit": _task_edit,
    # a token for the task's own process: its agent, or a person who may edit it (rerun)
    "task.token": lambda c, r: _runs_it(c, r) or _task_edit(c, r),
    # its secrets unmasked (server/secrets.py also wants it running, and a key pair): its
    # own process, its agent, or a person who may edit it (rerun runs it here)
    "task.secrets": lambda c, r: _own_task(c, r) or _runs_it(c, r) or _task_edit(c, r),
    "queue.create": lambda c, r: _writer(c),
    "queue.manage": lambda c, r: c.is_admin or (_writer(c) and r.owner_id == c.id),
    "queue.enqueue": _enqueue,
    "queue.serve": _serve,
    "worker.register": lambda c, r: _writer(c) or c.scope == "agent",
    "worker.serve": lambda c, r: _runs_it(c, r),
    "worker.manage": lambda c, r: c.is_admin or _runs_it(c, r),
}


def allowed(caller: Caller, action: str, resource: Resource = SERVER) -> bool:
    """May ``caller`` do ``action`` on ``resource``? (pure; unknown actions: no)"""
    rule = RULES.get(action)
    if rule is None:
        return False
    return caller.is_admin or rule(caller, resource)


def check(caller: Caller, action: str, resource: Resource = SERVER) -> None:
    if not allowed(caller, action, resource):
        what = f"{resource.kind} {resource.id}" if resource.id else "this server"
        raise Forbidden(f"{caller.name} ({_who(caller)}) may not {action} on {what}")


def _who(caller: Caller) -> str:
    if caller.scope == "task":
        return f"token of task {caller.task_id}"
    if caller.scope == "agent":
        return "agent key"
    return caller.role


# -- the route dependency -------------------------------------------------------------
_PARAM = {"task_id": "task", "project_id": "project", "id_or_name": "queue", "worker_id": "worker"}


def load(ctx: ServerContext, caller: Caller, kind: str, ident: str) -> Resource:
    """The facts about ``ident`` that decisions need (404 when it does not exist)."""
    with ctx.db.read() as conn:
        facts = access_repo.facts(conn, kind, ident, caller.id)
    return Resource(kind=kind, default=ctx.settings.project_access, **facts)


def _needs_facts(caller: Caller, action: str, kind: str, ident: str) -> bool:
    if caller.is_admin:
        return False
    return not (caller.scope == "task" and kind == "task" and ident == caller.task_id)


def can(action: str) -> Any:
    """A dependency for a route doing ``action`` on the resource its path names (the
    first of ``task_id``, ``project_id``, ``id_or_name`` (a queue), ``worker_id``);
    answers the caller, or 403."""

    async def dependency(
        request: Request, caller: Annotated[Caller, Depends(require_user)], ctx: Ctx
    ) -> Caller:
        params = request.path_params
        name = next((p for p in _PARAM if p in params), None)
        if name is None:
            resource = SERVER
        else:
            kind, ident = _PARAM[name], str(params[name])
            if _needs_facts(caller, action, kind, ident):
                key = (caller.access_key or caller.id, action, kind, ident)
                if key in ctx.granted:
                    return caller
                resource = await run_in_threadpool(load, ctx, caller, kind, ident)
                check(caller, action, resource)
                ctx.granted.add(key)
                return caller
            resource = Resource(kind=kind, id=ident)
        check(caller, action, resource)
        return caller

    dependency.__name__ = f"can_{action.replace('.', '_')}"
    return Depends(dependency)


def permitted(ctx: ServerContext, caller: Caller, action: str, task_id: str) -> bool:
    """:func:`allowed` on a task, its facts read now (for a decision inside a route)."""
    if not _needs_facts(caller, action, "task", task_id):
        return allowed(caller, action, Resource(kind="task", id=task_id))
    return allowed(caller, action, load(ctx, caller, "task", task_id))


# -- checks inside a route's transaction (the resource is named by the body) -------------
def _facts_in(
    conn: Any, settings: Any, caller: Caller, action: str, kind: str, ident: str
) -> Resource:
    if not _needs_facts(caller, action, kind, ident):
        return Resource(kind=kind, id=ident)
    facts = access_repo.facts(conn, kind, ident, caller.id)
    return Resource(kind=kind, default=settings.project_access, **facts)


def check_in(conn: Any, settings: Any, caller: Caller, action: str, kind: str, ident: str) -> None:
    """:func:`check` on ``ident``, its facts read on the route's own connection."""
    check(caller, action, _facts_in(conn, settings, caller, action, kind, ident))


def allowed_in(
    conn: Any, settings: Any, caller: Caller, action: str, kind: str, ident: str
) -> bool:
    """:func:`allowed` on ``ident``, its facts read on the route's own connection."""
    return allowed(caller, action, _facts_in(conn, settings, caller, action, kind, ident))


def servable(conn: Any, settings: Any, caller: Caller, queue_ids: list[str]) -> list[str]:
    """Those of ``queue_ids`` the caller may serve now: a worker's queues are checked at
    every claim, so a revoked grant, a queue closed to members or a role lowered to
    viewer stops an already registered worker from taking tasks."""
    return [q for q in queue_ids if allowed_in(conn, settings, caller, "queue.serve", "queue", q)]


def check_task_target(conn: Any, settings: Any, caller: Caller, body: dict[str, Any]) -> None:
    """May the caller create (or clone into) a task in the project the body names (by
    ``project_id`` or ``project`` name; a new name creates a project)?"""
    if caller.is_admin:
        return
    if caller.scope == "task":
        return check(caller, "task.create", Resource(kind="task", id=body.get("id")))
    if body.get("project_id"):
        return check_in(conn, settings, caller, "task.create", "project", body["project_id"])
    facts = access_repo.project_facts_by_name(conn, body.get("project") or "", caller.id)
    if facts is None:  # a new project: the caller's to create
        return check(caller, "task.create", SERVER)
    check(caller, "task.create", Resource(kind="project", default=settings.project_access, **facts))

"""``/tasks/{id}/hyperparams`` and ``/tasks/{id}/configuration``.

Saving into a ``draft`` task is validated (docs/editing.md "Validation on save") with
``hydratrack.edits.validate``; a run writing into its own ``in_progress`` task is stored
as sent. Other states are not editable (409 naming the status).
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Iterable, Mapping

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Connection

from hydratrack.edits.validate import validate_configuration, validate_hyperparams
from hydratrack.names import CONFIG_OBJECT, CONFIG_TYPE
from hydratrack.server.api.models import ConfigIn, Hyperparams, ParamIn, Section, dump
from hydratrack.server.api.task_access import read_task
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller, ServerContext
from hydratrack.server.errors import InvalidEdit
from hydratrack.server.permissions import can
from hydratrack.server.store import params as params_repo
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.status import TaskStatus

router = APIRouter(prefix="/tasks/{task_id}", tags=["tasks"])
SectionName = Annotated[str, Path(min_length=1, max_length=255)]


def _plain(value: Any) -> Any:
    if isinstance(value, ParamIn):
        return value.model_dump(exclude_unset=True)
    return value


def _plain_section(entries: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in entries.items()}


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, str | None]:
    """Entries of one section that a save adds, changes (new value) or deletes (None)."""
    out: dict[str, str | None] = {n: None for n in before if n not in after}
    for name, entry in after.items():
        old = before.get(name)
        if old is None or old["value"] != entry["value"]:
            out[name] = entry["value"]
    return out


def _check_hyperparams(
    conn: Connection,
    row: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    sections: Iterable[str],
) -> None:
    """Validate what a save changes in a draft task, each entry judged against the whole
    section as saved (docs/editing.md); a deletion re-judges the entries left."""
    if row.status != TaskStatus.DRAFT.value:
        return
    config = params_repo.get_configuration(conn, row.id).get(CONFIG_OBJECT)
    hydra = (row.runtime or {}).get("hydra") or {}
    choices, groups = hydra.get("choices"), hydra.get("config_groups")
    recorded = (hydra.get("overrides") or {}).get("task")
    problems = []
    for section in sections:
        changed = _changed(before.get(section, {}), after.get(section, {}))
        if not changed:
            continue
        entries = {n: e["value"] for n, e in after.get(section, {}).items()}
        deleted = any(v is None for v in changed.values())
        problems += validate_hyperparams(
            section,
            entries,
            config_yaml=config["value"] if config else None,
            choices=choices if isinstance(choices, dict) else None,
            overrides=[str(o) for o in recorded] if isinstance(recorded, list) else None,
            groups=groups if isinstance(groups, dict) else None,
            judge=None if deleted else [n for n, v in changed.items() if v is not None],
        )
    if problems:
        raise InvalidEdit([p.as_detail() for p in problems])


def _check_configuration(row: Any, name: str, type_: str, value: str) -> None:
    if row.status != TaskStatus.DRAFT.value:
        return
    problems = validate_configuration(name, type_, value)
    if problems:
        raise InvalidEdit([p.as_detail() for p in problems])


@router.get("/hyperparams")
def get_hyperparams(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> dict[str, Any]:
    return ctx.mask.hyperparams(
        read_task(ctx, task_id, lambda conn: params_repo.get_hyperparams(conn, task_id))
    )


@router.patch("/hyperparams")
def patch_hyperparams(
    task_id: str, body: Hyperparams, caller: Annotated[Caller, can("task.edit")], ctx: Ctx
) -> dict[str, Any]:
    changes = {s: _plain_section(e) for s, e in body.items()}

    def write(conn: Connection, stored: Mapping[str, Any]) -> None:
        params_repo.patch_hyperparams(conn, task_id, ctx.mask.keep_hyperparams(changes, stored))

    return _save_hyperparams(ctx, task_id, changes, write)


@router.put("/hyperparams/{section}")
async def put_section(
    task_id: str,
    section: SectionName,
    body: Section,
    caller: Annotated[Caller, can("task.write")],
    ctx: Ctx,
) -> dict[str, Any]:
    """(async, one thread hop: an agent-run task stores its Hydra section this way)"""
    entries = _plain_section(body)

    def write(conn: Connection, stored: Mapping[str, Any]) -> None:
        kept = ctx.mask.keep_hyperparams({section: entries}, stored)[section]
        params_repo.put_section(conn, task_id, section, kept)

    return await run_in_threadpool(_save_hyperparams, ctx, task_id, [section], write)


def _save_hyperparams(
    ctx: ServerContext,
    task_id: str,
    changed: Iterable[str],
    write: Callable[[Connection, Mapping[str, Any]], None],
) -> dict[str, Any]:
    """Apply ``write`` to an editable task, validate what changed (drafts), answer the result.
    ``write`` gets the stored entries (a mask sent back keeps the real value). A refused
    edit raises inside the transaction, so nothing of it is stored."""
    with ctx.db.write() as conn:
        row = tasks_repo.lock_row(conn, task_id)
        tasks_repo.ensure_editable(row)
        before = params_repo.get_hyperparams(conn, task_id)
        write(conn, before)
        after = params_repo.get_hyperparams(conn, task_id)
        _check_hyperparams(conn, row, before, after, changed)
        tasks_repo.touch(conn, task_id)
        return ctx.mask.hyperparams(after)


@router.get("/configuration")
def get_configuration(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> dict[str, Any]:
    return ctx.mask.configuration(
        read_task(ctx, task_id, lambda conn: params_repo.get_configuration(conn, task_id))
    )


@router.put("/configuration/{name}")
async def put_configuration(
    task_id: str,
    name: SectionName,
    body: ConfigIn,
    caller: Annotated[Caller, can("task.write")],
    ctx: Ctx,
) -> dict[str, Any]:
    """(async, one thread hop: an agent-run task stores the config it ran with this way)"""
    return await run_in_threadpool(_put_configuration, ctx, task_id, name, dump(body))


def _put_configuration(
    ctx: ServerContext, task_id: str, name: str, obj: dict[str, Any]
) -> dict[str, Any]:
    with ctx.db.write() as conn:
        row = tasks_repo.lock_row(conn, task_id)
        tasks_repo.ensure_editable(row)
        stored = params_repo.get_configuration(conn, task_id).get(name)
        obj["value"] = ctx.mask.keep_text(obj["value"], stored["value"] if stored else None)
        if not obj.get("type"):  # keep the stored type; the job config names its own type
            obj["type"] = (
                stored["type"]
                if stored and stored["type"]
                else (CONFIG_TYPE if name == CONFIG_OBJECT else "")
            )
        _check_configuration(row, name, obj["type"], obj["value"])
        entry = params_repo.put_configuration(conn, task_id, name, obj)
        tasks_repo.touch(conn, task_id)
        return {**entry, "value": ctx.mask.text(entry["value"])}


@router.delete("/configuration/{name}", status_code=204)
def delete_configuration(
    task_id: str, name: str, caller: Annotated[Caller, can("task.edit")], ctx: Ctx
) -> Response:
    with ctx.db.write() as conn:
        tasks_repo.ensure_editable(tasks_repo.lock_row(conn, task_id))
        params_repo.delete_configuration(conn, task_id, name)
        tasks_repo.touch(conn, task_id)
    return Response(status_code=204)

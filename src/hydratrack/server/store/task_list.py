"""The task list: filters, order, paging, and chosen params/metrics per item."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.engine import Connection

from hydratrack.server.errors import BadRequest
from hydratrack.server.store import access
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.db import contains_pattern
from hydratrack.server.store.models import (
    hyperparams,
    metric_summaries,
    projects,
    task_tags,
    tasks,
)
from hydratrack.server.store.params import PREFIX_LEN
from hydratrack.server.store.scalars import json_number

log = logging.getLogger("hydratrack.server")

ORDER_COLUMNS = {
    "created": tasks.c.created,
    "name": tasks.c.name,
    "status": tasks.c.status,
    "started": tasks.c.started,
    "completed": tasks.c.completed,
    "last_update": tasks.c.last_update,
    "type": tasks.c.type,
}
# orders that an ``(archived, column)`` index gives, so a filtered page can walk them
WALK_ORDERS = frozenset({"created", "name", "last_update", "started"})
WALK_MIN_MATCHES = 1000  # below this, sorting the matches costs next to nothing
SUBTRACT_RATIO = 4  # count a filter's index range minus the other side of ``archived``
# when that side has fewer than a quarter as many tasks (see _count_matches)


@dataclasses.dataclass
class TaskFilter:
    project: str | None = None
    project_id: str | None = None
    status: list[str] = dataclasses.field(default_factory=list)
    name: str | None = None
    tag: list[str] = dataclasses.field(default_factory=list)
    q: str | None = None
    param: list[str] = dataclasses.field(default_factory=list)
    parent: str | None = None
    archived: bool | None = False
    order_by: str = "-created"
    offset: int = 0
    limit: int = 50
    params: list[str] = dataclasses.field(default_factory=list)
    metrics: list[str] = dataclasses.field(default_factory=list)
    readable_by: str | None = None  # only projects this user owns or was granted


def _split_key(text: str, what: str) -> tuple[str, str]:
    section, sep, name = text.partition("/")
    if not sep or not section or not name:
        raise BadRequest(f"bad {what} {text!r}: expected Section/name")
    return section, name


def _conditions(conn: Connection, f: TaskFilter) -> list[Any]:
    """WHERE terms on the task row itself (the hyperparameter filters are separate)."""
    c = tasks.c
    where: list[Any] = []
    if f.readable_by:
        where.append(c.project_id.in_(access.readable_projects(f.readable_by)))
    if f.project_id:
        where.append(c.project_id == f.project_id)
    if f.project:  # resolved first: an equality on project_id uses its index
        pid = conn.execute(select(projects.c.id).where(projects.c.name == f.project)).scalar()
        where.append(c.project_id == (pid or ""))
    if f.status:
        where.append(c.status.in_(f.status))
    if f.name:
        where.append(c.name.ilike(contains_pattern(f.name), escape="\\"))
    for tag in f.tag:
        where.append(c.id.in_(select(task_tags.c.task_id).where(task_tags.c.tag == tag)))
    if f.q:
        pat = contains_pattern(f.q)
        where.append(or_(c.name.ilike(pat, escape="\\"), c.comment.ilike(pat, escape="\\")))
    if f.parent:
        where.append(c.parent_id == f.parent)
    if f.archived is not None:
        where.append(c.archived == f.archived)  # "=", not "IS": indexable on PostgreSQL
    return where


def _param_matches(f: TaskFilter) -> list[list[Any]]:
    """Per ``param`` filter, the terms a ``hyperparams`` row must meet (task id aside)."""
    h = hyperparams.c
    out = []
    for item in f.param:
        key, eq, value = item.partition("=")
        if not eq:
            raise BadRequest(f"bad param filter {item!r}: expected Section/name=value")
        section, name = _split_key(key, "param filter")
        match = [h.section == section, h.name == name, h.value_prefix == value[:PREFIX_LEN]]
        if len(value) >= PREFIX_LEN:  # shorter: the prefix is the whole value, already exact
            match.append(h.value == value)
        out.append(match)
    return out


def _order(order_by: str) -> list[Any]:
    desc = order_by.startswith("-")
    col = ORDER_COLUMNS.get(order_by.lstrip("-+"))
    if col is None:
        raise BadRequest(
            f"bad order_by {order_by!r}: one of "
            + ", ".join(sorted(ORDER_COLUMNS))
            + " (prefix - for descending)"
        )
    return [col.desc() if desc else col.asc(), tasks.c.id.desc() if desc else tasks.c.id.asc()]


def _count(conn: Connection, where: list[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one())


def _probe(match: list[Any]) -> Any:
    """EXISTS: the task of the outer row has a hyperparameter meeting ``match``."""
    h = hyperparams.c
    return select(h.task_id).where(h.task_id == tasks.c.id, *match).exists()


def _count_matches(
    conn: Connection, f: TaskFilter, base: list[Any], matches: list[list[Any]]
) -> int:
    """How many tasks the filters select.

    One hyperparameter filter and no task filter but ``archived``: every matching
    hyperparameter row is one task (primary key; foreign key with cascade), so its index
    range counts them, and the tasks on the other side of ``archived`` are taken away
    when they are the fewer (usually: few tasks are archived). Joining each match to its
    task instead costs a lookup per match (~14k for a value held by 1 in 7 of 100k tasks).
    """
    h = hyperparams.c
    if len(matches) == 1 and not _task_filters(f):
        in_index = int(
            conn.execute(
                select(func.count()).select_from(hyperparams).where(*matches[0])
            ).scalar_one()
        )
        if f.archived is None or not in_index:
            return in_index
        other_side = tasks.c.archived == (not f.archived)
        if _count(conn, [other_side]) * SUBTRACT_RATIO < in_index:
            return in_index - _count(conn, [other_side, _probe(matches[0])])
    return _count(conn, base + [tasks.c.id.in_(select(h.task_id).where(*m)) for m in matches])


def _task_filters(f: TaskFilter) -> bool:
    """Any filter on the task row itself, but ``archived``?"""
    return bool(f.project or f.project_id or f.status or f.name or f.tag or f.q or f.parent)


def _walks_order(conn: Connection, f: TaskFilter, base: list[Any], total: int) -> bool:
    """Read the page by walking the sort order and probing each task's hyperparameters?

    The other way starts from the hyperparameter index and sorts every match: its cost
    grows with the matches (``total``). Walking visits about ``(offset + limit) *
    candidates / total`` tasks, so it wins when matches are dense. PostgreSQL's planner
    makes this choice itself (it has value statistics, migration 0006); SQLite's has
    none per value, so the store chooses, and only where an index gives the order.
    """
    if conn.dialect.name != "sqlite" or f.archived is None or total < WALK_MIN_MATCHES:
        return False
    column = f.order_by.lstrip("-+")
    if f.status or f.name or f.tag or f.q or f.parent or column not in WALK_ORDERS:
        return False
    if (f.project or f.project_id) and column != "created":  # (project_id, archived, created)
        return False
    candidates = _count(conn, base)
    return (f.offset + f.limit) * candidates < total * total


def list_(conn: Connection, f: TaskFilter) -> tuple[list[dict[str, Any]], int]:
    order = _order(f.order_by)  # bad input is refused before any query
    matches = _param_matches(f)
    param_keys = [_split_key(k, "params entry") for k in f.params]
    metric_keys = [_split_key(k, "metrics entry") for k in f.metrics]
    base = _conditions(conn, f)
    h = hyperparams.c
    if matches:
        total = _count_matches(conn, f, base, matches)
        if total == 0:
            return [], 0
        if _walks_order(conn, f, base, total):
            where = base + [_probe(m) for m in matches]
        else:
            where = base + [tasks.c.id.in_(select(h.task_id).where(*m)) for m in matches]
    else:
        where, total = base, -1
    ids_q = select(tasks.c.id).where(*where).order_by(*order).offset(f.offset).limit(f.limit)
    ids = [r.id for r in conn.execute(ids_q)]
    if total < 0:  # a last page (short, or empty at the start) tells the total itself
        last = 0 < len(ids) < f.limit or (not ids and f.offset == 0)
        total = f.offset + len(ids) if last else _count(conn, where)
    if not ids:
        return [], total
    rows = {r.id: r for r in conn.execute(tasks_repo.task_select().where(tasks.c.id.in_(ids)))}
    items = [_listed(rows[i]) for i in ids if i in rows]
    if param_keys:
        _attach(conn, items, "params", _PARAMS_SELECT, param_keys)
    if metric_keys:
        _attach(conn, items, "last_metrics", _METRICS_SELECT, metric_keys)
    return items, total


def _listed(row: Any) -> dict[str, Any]:
    """A row's list item; one that cannot even be viewed (written around the API) is
    shown with its id, name, status and project only, and logged: it never breaks a list."""
    try:
        return tasks_repo.view(row, full=False)
    except Exception as exc:
        log.exception("task %s shown degraded in the task list", row.id)
        return {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "project": {"id": row.project_id, "name": row.project_name},
            "degraded": [f"task: cannot be shown ({type(exc).__name__})"],
        }


def _keyed_select(task_col: Any, outer: Any, inner: Any, value: Any) -> Any:
    """Values of chosen ``outer/inner`` keys for some tasks; built once, compiled once."""
    return select(task_col, outer, inner, value).where(
        task_col.in_(bindparam("ids", expanding=True)),
        outer.in_(bindparam("outer", expanding=True)),
        inner.in_(bindparam("inner", expanding=True)),
    )


_PARAMS_SELECT = _keyed_select(
    hyperparams.c.task_id, hyperparams.c.section, hyperparams.c.name, hyperparams.c.value
)
_METRICS_SELECT = _keyed_select(
    metric_summaries.c.task_id,
    metric_summaries.c.metric,
    metric_summaries.c.variant,
    metric_summaries.c.value,
)


def _attach(
    conn: Connection,
    items: list[dict[str, Any]],
    field: str,
    stmt: Any,
    pairs: list[tuple[str, str]],
) -> None:
    """Give each item ``field``: ``{"outer/inner": value}`` for the chosen key ``pairs``.

    The select takes every outer and every inner name (an index search per task and
    pair); pairs not asked for (``a/y`` when ``a/x`` and ``b/y`` were) are dropped here.
    """
    wanted = set(pairs)
    found: dict[str, dict[str, Any]] = {item["id"]: {} for item in items}
    rows = conn.execute(
        stmt,
        {
            "ids": list(found),
            "outer": sorted({a for a, _ in wanted}),
            "inner": sorted({b for _, b in wanted}),
        },
    )
    for task_id, a, b, v in rows:
        if (a, b) in wanted:
            found[task_id][f"{a}/{b}"] = json_number(v) if isinstance(v, float) else v
    for item in items:
        item[field] = found[item["id"]]

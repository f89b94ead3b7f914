"""The task list: filters, order, paging, and chosen params/metrics per item."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from hydratrack.server.errors import BadRequest
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

ORDER_COLUMNS = {
    "created": tasks.c.created, "name": tasks.c.name, "status": tasks.c.status,
    "started": tasks.c.started, "completed": tasks.c.completed,
    "last_update": tasks.c.last_update, "type": tasks.c.type,
}


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


def _split_key(text: str, what: str) -> tuple[str, str]:
    section, sep, name = text.partition("/")
    if not sep or not section or not name:
        raise BadRequest(f"bad {what} {text!r}: expected Section/name")
    return section, name


def _conditions(conn: Connection, f: TaskFilter) -> list[Any]:
    """WHERE terms; sub-selects are ``IN`` lists so the planner starts from their indexes."""
    c = tasks.c
    where: list[Any] = []
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
    for item in f.param:
        key, eq, value = item.partition("=")
        if not eq:
            raise BadRequest(f"bad param filter {item!r}: expected Section/name=value")
        section, name = _split_key(key, "param filter")
        h = hyperparams.c
        match = [h.section == section, h.name == name, h.value_prefix == value[:PREFIX_LEN]]
        if len(value) >= PREFIX_LEN:  # shorter: the prefix is the whole value, already exact
            match.append(h.value == value)
        where.append(c.id.in_(select(h.task_id).where(*match)))
    if f.parent:
        where.append(c.parent_id == f.parent)
    if f.archived is not None:
        where.append(c.archived == f.archived)  # "=", not "IS": indexable on PostgreSQL
    return where


def _order(order_by: str) -> list[Any]:
    desc = order_by.startswith("-")
    col = ORDER_COLUMNS.get(order_by.lstrip("-+"))
    if col is None:
        raise BadRequest(f"bad order_by {order_by!r}: one of "
                         + ", ".join(sorted(ORDER_COLUMNS)) + " (prefix - for descending)")
    return [col.desc() if desc else col.asc(), tasks.c.id.desc() if desc else tasks.c.id.asc()]


def list_(conn: Connection, f: TaskFilter) -> tuple[list[dict[str, Any]], int]:
    where = _conditions(conn, f)
    order = _order(f.order_by)
    total = int(conn.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one())
    ids_q = select(tasks.c.id).where(*where).order_by(*order).offset(f.offset).limit(f.limit)
    ids = [r.id for r in conn.execute(ids_q)]
    if not ids:
        return [], total
    rows = {r.id: r for r in conn.execute(tasks_repo.task_select().where(tasks.c.id.in_(ids)))}
    items = [tasks_repo.view(rows[i], full=False) for i in ids if i in rows]
    if f.params:
        _attach_params(conn, items, f.params)
    if f.metrics:
        _attach_metrics(conn, items, f.metrics)
    return items, total


def _attach_params(conn: Connection, items: list[dict[str, Any]], keys: list[str]) -> None:
    h = hyperparams.c
    _attach(conn, items, keys, "params", "params entry", h.task_id, h.section, h.name, h.value)


def _attach_metrics(conn: Connection, items: list[dict[str, Any]], keys: list[str]) -> None:
    m = metric_summaries.c
    _attach(conn, items, keys, "last_metrics", "metrics entry",
            m.task_id, m.metric, m.variant, m.value)


def _attach(conn: Connection, items: list[dict[str, Any]], keys: list[str], field: str,
            what: str, task_col: Any, outer: Any, inner: Any, value: Any) -> None:
    """Give each item ``field``: ``{"outer/inner": value}`` for the chosen ``keys``."""
    pairs = [_split_key(k, what) for k in keys]
    stmt = select(task_col, outer, inner, value).where(
        task_col.in_([i["id"] for i in items]),
        or_(*[and_(outer == a, inner == b) for a, b in pairs]))
    found: dict[str, dict[str, Any]] = {}
    for task_id, a, b, v in conn.execute(stmt):
        found.setdefault(task_id, {})[f"{a}/{b}"] = v
    for item in items:
        item[field] = found.get(item["id"], {})

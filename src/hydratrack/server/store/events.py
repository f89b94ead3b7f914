"""Events of a run: scalars, console lines, text reports; batch ingest and reads.

Ingest is one transaction per batch with bulk inserts, idempotent by ``batch_id``.
Console lines get increasing ``seq`` numbers per task from a counter on the task row.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterable

from sqlalchemy import (
    BigInteger,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydratrack.server.errors import Conflict
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.clock import utcnow
from hydratrack.server.store.models import (
    console,
    event_batches,
    metric_summaries,
    scalars,
    tasks,
    texts,
)
from hydratrack.status import TaskStatus

FINAL_FLUSH_SECONDS = 60


def _check_accepting(row: Any) -> None:
    if row.status in (TaskStatus.DRAFT.value, TaskStatus.IN_PROGRESS.value):
        return
    ended = row.completed
    if row.status in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value,
                      TaskStatus.STOPPED.value) and ended is not None:
        if utcnow() - ended <= dt.timedelta(seconds=FINAL_FLUSH_SECONDS):
            return
    raise Conflict(f"task {row.id} is {row.status}; events are accepted in draft or "
                   "in_progress (or within 60 s after it ended)")


def ingest(conn: Connection, task_id: str, batch_id: str,
           events: list[dict[str, Any]]) -> int | None:
    """Store a batch; the number accepted, or None when the batch id was seen before."""
    row = tasks_repo.lock_row(conn, task_id)
    seen = conn.execute(select(event_batches.c.batch_id).where(
        event_batches.c.task_id == task_id, event_batches.c.batch_id == batch_id)).first()
    if seen is not None:
        return None
    _check_accepting(row)
    try:
        with conn.begin_nested():
            conn.execute(event_batches.insert().values(task_id=task_id, batch_id=batch_id,
                                                       accepted=len(events), created=utcnow()))
    except IntegrityError:
        return None  # the same batch landed concurrently
    sc = [e for e in events if e["type"] == "scalar"]
    lines = [e for e in events if e["type"] == "console"]
    tx = [e for e in events if e["type"] == "text"]
    if sc:
        for e in sc:  # JSON has no NaN/inf: they are kept as null (a gap in the plot)
            if not math.isfinite(e["value"]):
                e["value"] = None
        conn.execute(scalars.insert(), [
            {"task_id": task_id, "metric": e["metric"], "variant": e["variant"],
             "iter": e["iter"], "value": e["value"], "ts": e["ts"]} for e in sc])
        _update_summaries(conn, task_id, sc)
    if lines:
        conn.execute(update(tasks).where(tasks.c.id == task_id)
                     .values(console_seq=tasks.c.console_seq + len(lines)))
        last = conn.execute(select(tasks.c.console_seq).where(tasks.c.id == task_id)).scalar_one()
        first = last - len(lines) + 1
        conn.execute(console.insert(), [
            {"task_id": task_id, "seq": first + i, "ts": e["ts"], "stream": e["stream"],
             "text": e["text"]} for i, e in enumerate(lines)])
    if tx:
        conn.execute(texts.insert(), [
            {"task_id": task_id, "title": e["title"], "text": e["text"], "iter": e["iter"],
             "ts": e["ts"]} for e in tx])
    tasks_repo.touch(conn, task_id)
    return len(events)


def _update_summaries(conn: Connection, task_id: str, points: Iterable[dict[str, Any]]) -> None:
    batch: dict[tuple[str, str], dict[str, Any]] = {}
    for p in points:
        if p["value"] is None:
            continue
        key = (p["metric"], p["variant"])
        s = batch.get(key)
        v = float(p["value"])
        if s is None:
            batch[key] = {"value": v, "iter": p["iter"], "min": v, "max": v, "count": 1}
            continue
        if p["iter"] >= s["iter"]:
            s["value"], s["iter"] = v, p["iter"]
        s["min"], s["max"], s["count"] = min(s["min"], v), max(s["max"], v), s["count"] + 1
    if not batch:
        return
    ms = metric_summaries.c
    stmt = select(metric_summaries).where(ms.task_id == task_id, or_(*[
        and_(ms.metric == metric, ms.variant == variant) for metric, variant in batch]))
    stored = {(r.metric, r.variant): r for r in conn.execute(stmt)}
    new_rows = []
    for (metric, variant), s in batch.items():
        old = stored.get((metric, variant))
        if old is None:
            new_rows.append({"task_id": task_id, "metric": metric, "variant": variant, **s})
            continue
        take_new = s["iter"] >= old.iter
        conn.execute(update(metric_summaries).where(
            ms.task_id == task_id, ms.metric == metric, ms.variant == variant).values(
            value=s["value"] if take_new else old.value,
            iter=s["iter"] if take_new else old.iter,
            min=min(old.min, s["min"]), max=max(old.max, s["max"]),
            count=old.count + s["count"]))
    if new_rows:
        conn.execute(metric_summaries.insert(), new_rows)


def _wanted(metrics: list[str] | None) -> Any:
    if not metrics:
        return None
    conds = []
    for item in metrics:
        metric, _, variant = item.partition("/")
        conds.append(and_(scalars.c.metric == metric, scalars.c.variant == variant)
                     if variant else scalars.c.metric == metric)
    return or_(*conds)


def _series(conn: Connection, task_id: str, cond: Any) -> list[tuple[str, str]]:
    """The (metric, variant) pairs of a task, one index seek each (a loose index scan)."""
    c = scalars.c
    found: list[tuple[str, str]] = []
    while True:
        stmt = select(c.metric, c.variant).where(c.task_id == task_id)
        if cond is not None:
            stmt = stmt.where(cond)
        if found:
            stmt = stmt.where(tuple_(c.metric, c.variant) > tuple_(*found[-1]))
        row = conn.execute(stmt.order_by(c.metric, c.variant).limit(1)).first()
        if row is None:
            return found
        found.append((row[0], row[1]))


def read_scalars(conn: Connection, task_id: str, max_points: int, x_axis: str,
                 metrics: list[str] | None) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """Each series whole when it fits ``max_points``, else reduced in SQL (``_bucketed``)."""
    c = scalars.c
    x_col = c.iter if x_axis == "iter" else c.ts
    out: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for metric, variant in _series(conn, task_id, _wanted(metrics)):
        where = (c.task_id == task_id, c.metric == metric, c.variant == variant)
        upto = select(c.id).where(*where).limit(max_points + 1).subquery()
        if conn.execute(select(func.count()).select_from(upto)).scalar_one() > max_points:
            xs, ys = _bucketed(conn, where, x_col, max_points)
        else:
            rows = conn.execute(select(x_col, c.value).where(*where).order_by(x_col, c.id)).all()
            xs, ys = [r[0] for r in rows], [r[1] for r in rows]
        out.setdefault(metric, {})[variant] = {"x": xs, "y": ys}
    return out


def _bucketed(conn: Connection, where: tuple[Any, ...], x_col: Any,
              max_points: int) -> tuple[list[Any], list[Any]]:
    """A long series reduced in the database; about two rows per bucket leave it.

    The iteration range is cut into equal buckets, each read by an index range scan of
    the covering index (no sort, no row lookups). From each bucket the minimum and the
    maximum value are kept, at the first point where they occur; a bucket of only nulls
    keeps its first point so the gap stays visible; the series' first and last points are
    kept. At most ``max_points`` points come back, in x order.
    """
    c = scalars.c
    ends = max_points >= 4  # room for the first and last point besides the buckets
    n_buckets = (max_points - 2) // 2 if ends else 1
    lo = conn.execute(select(c.iter).where(*where).order_by(c.iter).limit(1)).scalar_one()
    hi = conn.execute(select(c.iter).where(*where).order_by(c.iter.desc()).limit(1)).scalar_one()
    span = hi - lo + 1
    k = select(literal(0, BigInteger).label("k")).cte("ranges", recursive=True)
    k = k.union_all(select((k.c.k + 1).label("k")).where(k.c.k < n_buckets - 1))
    a, z = lo + k.c.k * span // n_buckets, lo + (k.c.k + 1) * span // n_buckets
    in_range = (*where, c.iter >= a, c.iter < z)
    ext = select(a.label("a"), z.label("z"),
                 select(func.min(c.value)).where(*in_range).scalar_subquery().label("lo"),
                 select(func.max(c.value)).where(*in_range).scalar_subquery().label("hi"),
                 ).where(a < z).cte("ext").prefix_with("MATERIALIZED")
    f = ext.c
    in_found = (*where, c.iter >= f.a, c.iter < f.z)

    def first_x(*cond: Any) -> Any:  # where each extreme first occurs
        return (select(x_col).where(*in_found, *cond).order_by(c.iter, c.id).limit(1)
                .scalar_subquery())

    keep: dict[tuple[Any, Any], None] = {}
    for y_lo, y_hi, x_lo, x_hi, x0 in conn.execute(select(
            f.lo, f.hi, first_x(c.value == f.lo), first_x(c.value == f.hi), first_x())):
        if y_lo is None:  # only nulls in this bucket
            keep[(x0, None)] = None
            continue
        keep[(x_lo, y_lo)] = None
        keep[(x_hi, y_hi)] = None
    if ends:
        for order in ((c.iter, c.id), (c.iter.desc(), c.id.desc())):
            row = conn.execute(select(x_col, c.value).where(*where).order_by(*order)
                               .limit(1)).one()
            keep[(row[0], row[1])] = None
    points = sorted(keep, key=lambda p: p[0])
    return [p[0] for p in points], [p[1] for p in points]


def last_scalars(conn: Connection, task_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(select(metric_summaries).where(metric_summaries.c.task_id == task_id)
                          .order_by(metric_summaries.c.metric, metric_summaries.c.variant)):
        out.setdefault(r.metric, {})[r.variant] = {"value": r.value, "iter": r.iter,
                                                   "min": r.min, "max": r.max}
    return out


def read_console(conn: Connection, task_id: str, after: int, limit: int,
                 order: str) -> dict[str, Any]:
    c = console.c
    stmt = select(c.seq, c.ts, c.stream, c.text).where(c.task_id == task_id, c.seq > after)
    stmt = stmt.order_by(c.seq.desc() if order == "desc" else c.seq).limit(limit)
    items = [{"seq": r.seq, "ts": r.ts, "stream": r.stream, "text": r.text}
             for r in conn.execute(stmt)]
    next_after = max((i["seq"] for i in items), default=after)
    return {"items": items, "next_after": next_after}


def read_texts(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    c = texts.c
    return [{"title": r.title, "text": r.text, "iter": r.iter, "ts": r.ts}
            for r in conn.execute(select(texts).where(c.task_id == task_id).order_by(c.id))]

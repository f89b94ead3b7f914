"""Scalar series of a run: ingest of points, metric summaries, and the (downsampled) reads.

A series is one ``(task, metric, variant)`` row of ``scalar_series``; its points go to
``scalar_points`` through the driver's bulk path (``bulk.py``) and are merged into the
rollup (``rollup.py``) in the same transaction. Reads of a series longer than
``max_points`` touch one rollup level, not the points.
"""

from __future__ import annotations

import math
from itertools import chain, repeat
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.engine import Connection

from hydratrack.server.store import bulk, rollup
from hydratrack.server.store.models import (
    metric_summaries,
    scalar_points,
    scalar_rollup,
    scalar_series,
)
from hydratrack.server.store.rollup import SHIFTS

Columns = tuple[list[int], list[Any], list[float]]  # iters, values, ts of one series
Series = dict[tuple[str, str], Columns]


def json_number(v: float | None) -> float | str:
    """A stored value as a JSON answer gives it: a number, or (JSON has no such numbers)
    the string ``"NaN"`` (stored as NULL: SQLite cannot keep a NaN), ``"Infinity"`` or
    ``"-Infinity"`` - the spellings the events API accepts."""
    if v is None or v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def json_numbers(values: list[Any]) -> list[Any]:
    """``json_number`` of each value (the list itself when all are finite: one C-speed sum)."""
    if None not in values and math.isfinite(sum(values)):
        return values
    return [json_number(v) for v in values]


def group(events: list[dict[str, Any]]) -> Series:
    """The scalar points of a batch (``scalar`` and ``scalars`` events) per (metric,
    variant), in arrival order; a NaN becomes None (stored as NULL, the same on both
    databases; never a minimum or maximum), an infinity stays a number."""
    out: Series = {}
    for e in events:
        kind = e["type"]
        if kind == "scalars":
            s = out.setdefault((e["metric"], e["variant"]), ([], [], []))
            s[0].extend(e["iters"])
            s[1].extend(e["values"])
            s[2].extend(e["ts"])
        elif kind == "scalar":
            s = out.setdefault((e["metric"], e["variant"]), ([], [], []))
            s[0].append(e["iter"])
            s[1].append(e["value"])
            s[2].append(e["ts"])
    for _, values, _ in out.values():
        if not math.isfinite(sum(values)):  # rare: look at each value only then
            values[:] = [None if v != v else v for v in values]
    return out


def store(conn: Connection, task_id: str, series: Series) -> None:
    """Insert the points, merge them into the rollup and the metric summaries; a few
    statements per batch however many series it holds."""
    rows = _series_rows(conn, task_id, list(series))
    points: list[Any] = []
    counts = []
    sorted_series: dict[int, Columns] = {}
    summaries: dict[tuple[str, str], dict[str, Any]] = {}
    for key, (iters, values, ts) in series.items():
        sid, stored = rows[key]
        n = len(iters)
        points.append(zip(repeat(sid), iters, range(stored, stored + n), values, ts))
        counts.append({"sid": sid, "n": stored + n})
        if iters != sorted(iters):  # stable: repeated iterations keep their arrival order
            order = sorted(range(len(iters)), key=iters.__getitem__)
            iters = [iters[k] for k in order]
            values = [values[k] for k in order]
            ts = [ts[k] for k in order]
        sorted_series[sid] = (iters, values, ts)
        summary = _summary(iters, values)
        if summary is not None:
            summaries[key] = summary
    bulk.insert_rows(
        conn,
        scalar_points,
        ("series_id", "iter", "seq", "value", "ts"),
        chain.from_iterable(points),
    )
    c = scalar_series.c
    conn.execute(
        update(scalar_series).where(c.id == bindparam("sid")).values(points=bindparam("n")), counts
    )
    rollup.add(conn, sorted_series)
    _update_summaries(conn, task_id, summaries)


def _series_rows(
    conn: Connection, task_id: str, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(id, points stored so far) of each (metric, variant) of a task, made when new."""
    c = scalar_series.c
    stmt = select(c.metric, c.variant, c.id, c.points).where(c.task_id == task_id)
    found = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in conn.execute(stmt)}
    new = [
        {"task_id": task_id, "metric": m, "variant": v, "points": 0}
        for m, v in keys
        if (m, v) not in found
    ]
    if new:  # the task row is locked by the caller: no concurrent insert
        conn.execute(scalar_series.insert(), new)
        found = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in conn.execute(stmt)}
    return found


def _summary(iters: list[int], values: list[Any]) -> dict[str, Any] | None:
    """Last value (at the largest iteration; the later one on a tie), min, max, count of
    the non-null points (sorted by iteration, stable), or None when all are null."""
    real = values if None not in values else [v for v in values if v is not None]
    if not real:
        return None
    k = len(values) - 1
    while values[k] is None:
        k -= 1
    return {
        "value": values[k],
        "iter": iters[k],
        "min": min(real),
        "max": max(real),
        "count": len(real),
    }


def _update_summaries(
    conn: Connection, task_id: str, batch: dict[tuple[str, str], dict[str, Any]]
) -> None:
    if not batch:
        return
    ms = metric_summaries.c
    stmt = select(metric_summaries).where(
        ms.task_id == task_id,
        or_(*[and_(ms.metric == metric, ms.variant == variant) for metric, variant in batch]),
    )
    stored = {(r.metric, r.variant): r for r in conn.execute(stmt)}
    new_rows, changed = [], []
    for (metric, variant), s in batch.items():
        old = stored.get((metric, variant))
        if old is None:
            new_rows.append({"task_id": task_id, "metric": metric, "variant": variant, **s})
            continue
        take_new = s["iter"] >= old.iter
        changed.append(
            {
                "m": metric,
                "v": variant,
                "value": s["value"] if take_new else old.value,
                "iter": s["iter"] if take_new else old.iter,
                "min": min(old.min, s["min"]),
                "max": max(old.max, s["max"]),
                "count": old.count + s["count"],
            }
        )
    if changed:
        conn.execute(
            update(metric_summaries)
            .where(ms.task_id == task_id, ms.metric == bindparam("m"), ms.variant == bindparam("v"))
            .values(
                value=bindparam("value"),
                iter=bindparam("iter"),
                min=bindparam("min"),
                max=bindparam("max"),
                count=bindparam("count"),
            ),
            changed,
        )
    if new_rows:
        conn.execute(metric_summaries.insert(), new_rows)


def clear(conn: Connection, task_id: str) -> None:
    """Forget every series of a task (points, rollup, summaries)."""
    ids = select(scalar_series.c.id).where(scalar_series.c.task_id == task_id)
    conn.execute(delete(scalar_points).where(scalar_points.c.series_id.in_(ids)))
    conn.execute(delete(scalar_rollup).where(scalar_rollup.c.series_id.in_(ids)))
    conn.execute(delete(scalar_series).where(scalar_series.c.task_id == task_id))
    conn.execute(delete(metric_summaries).where(metric_summaries.c.task_id == task_id))


def _wanted(metrics: list[str] | None) -> Any:
    c = scalar_series.c
    conds = []
    for item in metrics or ():
        metric, _, variant = item.partition("/")
        conds.append(
            and_(c.metric == metric, c.variant == variant) if variant else c.metric == metric
        )
    return or_(*conds) if conds else None


def read(
    conn: Connection, task_id: str, max_points: int, x_axis: str, metrics: list[str] | None
) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """Each series whole when it fits ``max_points``, else downsampled (``_downsampled``)."""
    s, p = scalar_series.c, scalar_points.c
    x_col = p.iter if x_axis == "iter" else p.ts
    stmt = select(s.id, s.metric, s.variant).where(s.task_id == task_id)
    wanted = _wanted(metrics)
    if wanted is not None:
        stmt = stmt.where(wanted)
    out: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for sid, metric, variant in conn.execute(stmt.order_by(s.metric, s.variant)).all():
        beyond = (
            select(p.iter)
            .where(p.series_id == sid)
            .order_by(p.iter, p.seq)
            .offset(max_points)
            .limit(1)
        )  # an index walk of max_points entries
        if conn.execute(beyond).first() is not None:
            xs, ys = _downsampled(conn, sid, x_axis, max_points)
        else:
            rows = conn.execute(
                select(x_col, p.value).where(p.series_id == sid).order_by(x_col, p.seq)
            ).all()
            xs, ys = [r[0] for r in rows], [r[1] for r in rows]
        out.setdefault(metric, {})[variant] = {"x": xs, "y": json_numbers(ys)}
    return out


def _downsampled(
    conn: Connection, sid: int, x_axis: str, max_points: int
) -> tuple[list[Any], list[Any]]:
    """A long series as the minimum and maximum point of each bucket, plus its first and
    last point; a bucket of only nulls gives its first point (the gap stays visible).

    The buckets are aligned iteration ranges of width ``4**k``, the narrowest width that
    makes at most ``(max_points - 2) // 2`` buckets (1 when ``max_points`` < 4: then the
    first and last points are left out). Widths from 64 up are read from the rollup
    (one row per bucket); narrower ones are made from the points, which then are few.
    """
    p = scalar_points.c
    ends = max_points >= 4
    most = (max_points - 2) // 2 if ends else 1
    cols = (p.iter, p.value, p.ts)
    first = conn.execute(
        select(*cols).where(p.series_id == sid).order_by(p.iter, p.seq).limit(1)
    ).one()
    last = conn.execute(
        select(*cols).where(p.series_id == sid).order_by(p.iter.desc(), p.seq.desc()).limit(1)
    ).one()
    shift = next(
        (s for s in range(0, SHIFTS[-1] + 1, 2) if (last[0] >> s) - (first[0] >> s) + 1 <= most),
        SHIFTS[-1],
    )
    if shift >= SHIFTS[0]:
        aggs = rollup.read_level(conn, sid, SHIFTS.index(shift))
    else:
        rows = conn.execute(select(*cols).where(p.series_id == sid).order_by(p.iter, p.seq)).all()
        aggs = list(
            rollup.buckets(
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], shift
            ).values()
        )
    if len(aggs) > most:  # only when even the widest buckets are too many (max_points < 4)
        one = aggs[0]
        for agg in aggs[1:]:
            one = rollup.merge(one, agg)
        aggs = [one]
    keep: dict[tuple[Any, ...], None] = {}
    if ends:
        keep[tuple(first)] = None
    for agg in aggs:
        if agg[4] is None:
            keep[agg[0:3]] = None
        else:
            keep[agg[3:6]] = None
            keep[agg[6:9]] = None
    if ends:
        keep[tuple(last)] = None
    x = 0 if x_axis == "iter" else 2
    # equal x: by iteration, then value (a null first); arrival order is not kept here
    points = sorted(keep, key=lambda pt: (pt[x], pt[0], pt[1] is not None, pt[1] or 0.0))
    return [pt[x] for pt in points], [pt[1] for pt in points]

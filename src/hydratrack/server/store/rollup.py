"""The scalar rollup: a downsampled copy of every series, kept up to date at ingest.

A series is cut into aligned iteration buckets of width ``4**k``; bucket ``b`` of width
``2**shift`` holds the iterations ``[b << shift, (b + 1) << shift)``. For the widths
``4**3 .. 4**16`` (``SHIFTS``) the table ``scalar_rollup`` keeps one row per non-empty
bucket with three real points of the series: the first (smallest iteration), the one with
the smallest value and the one with the largest value (nulls - NaN/inf reported by the run -
are never a minimum or maximum; a bucket of only nulls has no minimum or maximum).

Ties go to the earlier point in (iteration, arrival) order, so a bucket's points are the
same whether its points came in one batch or many, in order or not. Every field is a
minimum/maximum, so merging is associative and idempotent: a batch's buckets are merged
into the stored rows, and each coarser level is made from the finer one.

A read touches one level: at most a few thousand rows whatever the series length.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Mapping, Sequence

from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.engine import Connection

from hydratrack.server.store import bulk
from hydratrack.server.store.models import scalar_rollup

# bucket widths 4**3 (64) .. 4**16 (2**32: every int32 iteration in at most two buckets)
SHIFTS = tuple(range(6, 33, 2))
# (first iter, value, ts, min iter, value, ts, max iter, value, ts); min/max None: only nulls
Agg = tuple[Any, ...]
POINT_COLUMNS = (
    "first_iter",
    "first_value",
    "first_ts",
    "min_iter",
    "min_value",
    "min_ts",
    "max_iter",
    "max_value",
    "max_ts",
)


def merge(a: Agg, b: Agg) -> Agg:
    """The aggregate of two; ``a`` holds the earlier points on ties (earlier bucket or
    earlier arrival)."""
    first = b[0:3] if b[0] < a[0] else a[0:3]
    if a[4] is None:
        lo = b[3:6]
    elif b[4] is None or a[4] < b[4] or (a[4] == b[4] and a[3] <= b[3]):
        lo = a[3:6]
    else:
        lo = b[3:6]
    if a[7] is None:
        hi = b[6:9]
    elif b[7] is None or a[7] > b[7] or (a[7] == b[7] and a[6] <= b[6]):
        hi = a[6:9]
    else:
        hi = b[6:9]
    return first + lo + hi


def buckets(
    iters: Sequence[int], values: Sequence[Any], ts: Sequence[float], shift: int
) -> dict[int, Agg]:
    """Buckets of width ``2**shift`` of points sorted by iteration (stable: by arrival)."""
    out: dict[int, Agg] = {}
    n, i = len(iters), 0
    while i < n:
        b = iters[i] >> shift
        j = bisect_left(iters, (b + 1) << shift, i)
        vs = values[i:j]
        if None not in vs:
            lo_v, hi_v = min(vs), max(vs)
            lo, hi = i + vs.index(lo_v), i + vs.index(hi_v)
        else:
            real = [k for k in range(i, j) if values[k] is not None]
            lo = min(real, key=values.__getitem__) if real else -1
            hi = max(real, key=values.__getitem__) if real else -1
        first = (iters[i], values[i], ts[i])
        if lo < 0:
            out[b] = first + (None, None, None, None, None, None)
        else:
            out[b] = first + (iters[lo], values[lo], ts[lo], iters[hi], values[hi], ts[hi])
        i = j
    return out


def coarser(aggs: dict[int, Agg]) -> dict[int, Agg]:
    """The next level (4 times wider buckets) of a level's buckets."""
    out: dict[int, Agg] = {}
    for b in sorted(aggs):
        parent = b >> 2
        cur = out.get(parent)
        out[parent] = aggs[b] if cur is None else merge(cur, aggs[b])
    return out


def add(
    conn: Connection, series: Mapping[int, tuple[Sequence[int], Sequence[Any], Sequence[float]]]
) -> None:
    """Merge points (per series id: iters, values, ts sorted by iteration, stable) into
    the stored rollup: one read of the touched buckets, one delete, one bulk insert."""
    batch: dict[tuple[int, int, int], Agg] = {}
    for sid, (iters, values, ts) in series.items():
        aggs = buckets(iters, values, ts, SHIFTS[0])
        for level in range(len(SHIFTS)):
            if level:
                aggs = coarser(aggs)
            batch.update(((sid, level, b), agg) for b, agg in aggs.items())
    r = scalar_rollup.c
    among = tuple_(r.series_id, r.level, r.bucket).in_(bindparam("keys", expanding=True))
    stored = select(r.series_id, r.level, r.bucket, *[r[c] for c in POINT_COLUMNS]).where(among)
    keys = list(batch)
    replaced = []
    for start in range(0, len(keys), 500):
        for row in conn.execute(stored, {"keys": keys[start : start + 500]}):
            k = (row[0], row[1], row[2])  # stored first: its points arrived earlier
            batch[k] = merge(tuple(row[3:]), batch[k])
            replaced.append(k)
    for start in range(0, len(replaced), 500):
        conn.execute(delete(scalar_rollup).where(among), {"keys": replaced[start : start + 500]})
    bulk.insert_rows(
        conn,
        scalar_rollup,
        ("series_id", "level", "bucket") + POINT_COLUMNS,
        (k + agg for k, agg in batch.items()),
    )


def read_level(conn: Connection, series_id: int, level: int) -> list[Agg]:
    """The stored buckets of one level, in iteration order."""
    r = scalar_rollup.c
    return [
        tuple(row)
        for row in conn.execute(
            select(*[r[c] for c in POINT_COLUMNS])
            .where(r.series_id == series_id, r.level == level)
            .order_by(r.bucket)
        )
    ]

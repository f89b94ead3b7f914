"""Scalar series in the store: the rollup read checked against the raw points.

Run on SQLite and (with HYDRATRACK_TEST_DB) on PostgreSQL, like the conformance suite.
The oracle below recomputes the documented downsampling from the points as reported
(``docs/server.md``): aligned iteration buckets of width ``4**k`` (the narrowest giving
at most ``(max_points - 2) // 2`` buckets), from each the first point holding the bucket's
smallest and largest value (in iteration, then arrival order), a bucket of only nulls its
first point, plus the series' first and last point.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hydratrack.server.store import events, lifecycle, tasks
from hydratrack.server.store import scalars as scalar_store
from hydratrack.server.store.db import Database
from hydratrack.server.store.migration import upgrade
from hydratrack.server.store.models import scalar_points, scalar_rollup, scalar_series
from tests.support.old_schema import old_user_and_task
from tests.unit.test_store_conformance import db, empty_db, user_id  # noqa: F401 - fixtures

Point = tuple[int, Any, float]  # iter, value (None: NaN), ts; list order = arrival


def oracle(points: list[Point], max_points: int, x_axis: str) -> tuple[list[Any], list[Any]]:
    x = 0 if x_axis == "iter" else 2
    ordered = sorted(points, key=lambda p: p[0])  # stable: arrival order on equal iterations
    if len(points) <= max_points:
        ordered = sorted(points, key=lambda p: p[x])  # what the raw read returns
        return [p[x] for p in ordered], [answered(p[1]) for p in ordered]
    ends = max_points >= 4
    most = (max_points - 2) // 2 if ends else 1
    lo, hi = ordered[0][0], ordered[-1][0]
    width = 1
    while (hi // width) - (lo // width) + 1 > most and width < 2**32:
        width *= 4
    groups: dict[int, list[Point]] = {}
    for p in ordered:
        groups.setdefault(p[0] // width, []).append(p)
    if len(groups) > most:
        groups = {0: ordered}
    keep: set[Point] = set()
    for pts in groups.values():
        real = [p for p in pts if p[1] is not None]
        if not real:
            keep.add(pts[0])
            continue
        keep.add(min(real, key=lambda p: p[1]))  # min/max keep the first of equals
        keep.add(max(real, key=lambda p: p[1]))
    if ends:
        keep |= {ordered[0], ordered[-1]}
    out = sorted(keep, key=lambda p: (p[x], p[0], p[1] is not None, p[1] or 0.0))
    return [p[x] for p in out], [answered(p[1]) for p in out]


def answered(value: Any) -> Any:
    """A value as the read answers it: a NaN (stored as NULL) is the string "NaN"."""
    return "NaN" if value is None else value


def ingest(
    database: Database,
    task_id: str,
    points: list[Point],
    batch: int,
    metric: str = "loss",
    variant: str = "train",
    tag: str = "",
) -> None:
    """Post ``points`` in batches, alternating the columnar and the per-point format."""
    for n, start in enumerate(range(0, len(points), batch)):
        chunk = points[start : start + batch]
        values = [math.nan if v is None else v for _, v, _ in chunk]
        if n % 2:
            evs: list[dict[str, Any]] = [
                {
                    "type": "scalar",
                    "metric": metric,
                    "variant": variant,
                    "iter": i,
                    "value": v,
                    "ts": t,
                }
                for (i, _, t), v in zip(chunk, values, strict=True)
            ]
        else:
            evs = [
                {
                    "type": "scalars",
                    "metric": metric,
                    "variant": variant,
                    "iters": [p[0] for p in chunk],
                    "values": values,
                    "ts": [p[2] for p in chunk],
                }
            ]
        with database.write() as conn:
            events.ingest(conn, task_id, f"b{tag}{start}-{metric}", evs)


def read(
    database: Database, task_id: str, max_points: int, x_axis: str = "iter"
) -> tuple[list[Any], list[Any]]:
    with database.read() as conn:
        got = scalar_store.read(conn, task_id, max_points, x_axis, None)["loss"]["train"]
    return got["x"], got["y"]


def new_task(database: Database, user_id: str) -> str:  # noqa: F811 - the fixture's value
    with database.write() as conn:
        return str(
            tasks.create(conn, user_id, {"name": "run", "project": "p", "status": "in_progress"})[
                0
            ]["id"]
        )


def messy_series(rng: random.Random, n: int) -> list[Point]:
    """Out of order, repeated iterations, negative ones, NaN/inf gaps, a stretch of nulls."""
    pts: list[Point] = []
    for k in range(n):
        it = rng.randrange(-300, 40_000) if rng.random() < 0.2 else k * 3
        if rng.random() < 0.05 and pts:
            it = pts[-1][0]  # a repeated iteration
        value: Any = round(rng.gauss(0, 1), 3)  # rounded: equal values happen
        if rng.random() < 0.03 or 9_000 <= it < 9_400:
            value = None
        pts.append((it, value, 1_000.0 + k))
    return pts


def test_rollup_read_matches_the_raw_points(db: Database, user_id: str) -> None:  # noqa: F811
    rng = random.Random(6)
    points = messy_series(rng, 12_000)
    tid = new_task(db, user_id)
    ingest(db, tid, points, batch=1_700)
    for max_points in (2, 3, 4, 5, 10, 64, 300, 2000, 11_999, 12_000, 20_000):
        for x_axis in ("iter", "time"):
            xs, ys = read(db, tid, max_points, x_axis)
            assert (xs, ys) == oracle(points, max_points, x_axis), (max_points, x_axis)
            assert len(xs) <= max_points
    assert len(read(db, tid, 2000)[0]) > 1000  # not needlessly coarse


def test_long_append_only_series_and_last_values(db: Database, user_id: str) -> None:  # noqa: F811
    tid = new_task(db, user_id)
    points: list[Point] = [
        (i, math.sin(i / 500) + (1e6 if i == 77_777 else 0), float(i)) for i in range(200_000)
    ]
    ingest(db, tid, points, batch=50_000)
    xs, ys = read(db, tid, 2000)
    assert (xs, ys) == oracle(points, 2000, "iter")
    assert 1_000 < len(xs) <= 2000 and 1e6 + math.sin(77_777 / 500) in ys
    with db.read() as conn:
        rows = conn.execute(select(func.count()).select_from(scalar_rollup)).scalar_one()
        last = events.last_scalars(conn, tid)["loss"]["train"]
    assert rows < 200_000 / 40  # the copy is small
    assert last == {
        "value": math.sin(199_999 / 500),
        "iter": 199_999,
        "min": min(p[1] for p in points),
        "max": max(p[1] for p in points),
    }


def test_reset_and_delete_clear_the_rollup(db: Database, user_id: str) -> None:  # noqa: F811
    tid = new_task(db, user_id)
    ingest(db, tid, [(i, float(i), 0.0) for i in range(5000)], batch=5000)
    with db.write() as conn:
        conn.execute(text("UPDATE tasks SET status = 'completed' WHERE id = :t"), {"t": tid})
        lifecycle.reset(conn, tid)
    with db.read() as conn:
        assert scalar_store.read(conn, tid, 100, "iter", None) == {}
        for table in (scalar_series, scalar_points, scalar_rollup):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    later = [(i, -float(i), 1.0) for i in range(3000)]
    ingest(db, tid, later, batch=3000)  # a new run after the reset: only its points
    assert read(db, tid, 100) == oracle(later, 100, "iter")
    with db.write() as conn:
        tasks.delete_(conn, tid)
    with db.read() as conn:
        for table in (scalar_series, scalar_points, scalar_rollup):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_upgrade_builds_the_rollup_of_old_points(empty_db: Database) -> None:  # noqa: F811
    upgrade(empty_db.engine, "0004")
    rng = random.Random(4)
    points = messy_series(rng, 3000)
    with empty_db.write() as conn:
        tid = old_user_and_task(conn)[1]
        conn.execute(
            text(
                "INSERT INTO scalars (task_id, metric, variant, iter, value, ts) "
                "VALUES (:t, 'loss', 'train', :i, :v, :ts)"
            ),
            [{"t": tid, "i": i, "v": v, "ts": t} for i, v, t in points],
        )
        conn.execute(
            text(
                "INSERT INTO scalars (task_id, metric, variant, iter, value, ts) "
                "VALUES (:t, 'acc', 'val', 1, 0.5, 2.0)"
            ),
            {"t": tid},
        )
    empty_db.migrate()
    for max_points in (3, 50, 500, 5000):
        assert read(empty_db, tid, max_points) == oracle(points, max_points, "iter")
    with empty_db.read() as conn:
        assert scalar_store.read(conn, tid, 10, "iter", ["acc"]) == {
            "acc": {"val": {"x": [1], "y": [0.5]}}
        }
    more = [(5000 + i, float(i), 9.0) for i in range(100)]
    ingest(empty_db, tid, more, batch=100)  # new points merge into the built rollup
    assert read(empty_db, tid, 60) == oracle(points + more, 60, "iter")


@pytest.mark.parametrize("shape", ["one batch", "point by point"])
def test_all_null_series_and_tiny_batches(
    db: Database,  # noqa: F811
    user_id: str,  # noqa: F811
    shape: str,
) -> None:
    tid = new_task(db, user_id)
    points: list[Point] = [(i * 50, None if i % 4 else float(i), float(i)) for i in range(120)]
    points += [(10_000 + i, None, 0.0) for i in range(80)]
    ingest(db, tid, points, batch=len(points) if shape == "one batch" else 7)
    for max_points in (3, 8, 40):
        assert read(db, tid, max_points) == oracle(points, max_points, "iter")


def test_ties_go_to_the_earlier_iteration_across_batches(
    db: Database,  # noqa: F811
    user_id: str,  # noqa: F811
) -> None:
    """Equal extremes in one bucket, the later batch holding the earlier iteration."""
    tid = new_task(db, user_id)
    first: list[Point] = [(i, 1.0, float(i)) for i in range(0, 10_000, 2)]
    first[70] = (140, 0.0, 140.0)
    first[90] = (180, 5.0, 180.0)
    later: list[Point] = [(i, 1.0, float(i)) for i in range(1, 10_000, 2)]
    later[65] = (131, 0.0, 131.0)
    later[70] = (141, 5.0, 141.0)
    ingest(db, tid, first, batch=len(first))
    ingest(db, tid, later, batch=len(later), tag="later")
    for max_points in (30, 100, 400, 2000):  # widths 1024, 256, 64 (rollup), 16 (points)
        xs, ys = read(db, tid, max_points)
        assert (xs, ys) == oracle(first + later, max_points, "iter")
        if max_points < 2000:  # one bucket holds all four
            assert 131 in xs and 141 in xs and 140 not in xs and 180 not in xs


def test_many_series_per_batch(db: Database, user_id: str) -> None:  # noqa: F811
    """Per-layer metrics: each batch holds a few points of many series (stored together)."""
    tid = new_task(db, user_id)
    rng = random.Random(9)
    series: dict[str, list[Point]] = {f"layer{k}": [] for k in range(40)}
    for b in range(6):
        evs = []
        for name, pts in series.items():
            new = [(rng.randrange(0, 3000), round(rng.random(), 2), float(b)) for _ in range(60)]
            pts.extend(new)
            evs.append(
                {
                    "type": "scalars",
                    "metric": "grad",
                    "variant": name,
                    "iters": [p[0] for p in new],
                    "values": [p[1] for p in new],
                    "ts": [p[2] for p in new],
                }
            )
        with db.write() as conn:
            events.ingest(conn, tid, f"many{b}", evs)
    with db.read() as conn:
        got = scalar_store.read(conn, tid, 30, "iter", ["grad"])["grad"]
        last = events.last_scalars(conn, tid)["grad"]
    assert sorted(got) == sorted(series)
    for name, pts in series.items():
        assert (got[name]["x"], got[name]["y"]) == oracle(pts, 30, "iter"), name
        top = max(p[0] for p in pts)
        assert last[name]["iter"] == top
        assert last[name]["value"] == [p[1] for p in pts if p[0] == top][-1]

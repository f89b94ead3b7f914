"""Downsampling keeps each bucket's extremes, in x order, within the point budget."""

from __future__ import annotations

import math
import random

import pytest

from hydratrack.server.store.downsample import downsample


def test_short_series_unchanged() -> None:
    xs, ys = [0.0, 1.0, 2.0], [3.0, 1.0, 2.0]
    assert downsample(xs, ys, 10) == (xs, ys)
    assert downsample(xs, ys, 3) == (xs, ys)


@pytest.mark.parametrize(("n", "budget"), [(10, 4), (1001, 10), (5000, 2000), (7, 6), (100, 3)])
def test_budget_order_and_extremes(n: int, budget: int) -> None:
    rng = random.Random(n)
    xs = [float(i) for i in range(n)]
    ys = [math.sin(i / 7) + rng.random() for i in range(n)]
    dx, dy = downsample(xs, ys, budget)
    assert len(dx) == len(dy) <= budget
    assert dx == sorted(dx) and len(set(dx)) == len(dx)
    assert all(ys[int(x)] == y for x, y in zip(dx, dy, strict=True))  # real points, never invented
    assert max(ys) in dy and min(ys) in dy


def test_spike_survives_heavy_reduction() -> None:
    ys = [0.0] * 100_000
    ys[54_321] = 99.0
    ys[12] = -5.0
    dx, dy = downsample(list(range(100_000)), ys, 50)  # type: ignore[arg-type]
    assert 99.0 in dy and -5.0 in dy and dx[dy.index(99.0)] == 54_321


def test_null_values_are_never_extremes_but_gaps_stay() -> None:
    xs = [float(i) for i in range(12)]
    ys: list[float | None] = [1.0, None, 3.0, None, None, None, None, 2.0, 9.0, None, 0.0, 5.0]
    dx, dy = downsample(xs, ys, 8)  # buckets of 3: [1,N,3] [N,N,N] [N,2,9] [N,0,5]
    assert dx == [0.0, 2.0, 3.0, 7.0, 8.0, 10.0, 11.0]
    assert dy == [1.0, 3.0, None, 2.0, 9.0, 0.0, 5.0]

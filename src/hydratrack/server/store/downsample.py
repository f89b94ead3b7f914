"""Server-side downsampling of a scalar series, keeping each bucket's min and max."""

from __future__ import annotations


def downsample(xs: list[float], ys: list[float],
               max_points: int) -> tuple[list[float], list[float]]:
    """At most ``max_points`` points, each bucket's extremes kept.

    The series is cut into ``max_points // 2`` buckets of consecutive points; from each the
    minimum and the maximum are kept, in x order, so spikes survive any reduction.
    """
    n = len(xs)
    if n <= max_points or max_points < 2:
        return list(xs), list(ys)
    buckets = max_points // 2
    keep: list[int] = []
    for b in range(buckets):
        lo, hi = b * n // buckets, (b + 1) * n // buckets
        if lo >= hi:
            continue
        seg = range(lo, hi)
        i_min = min(seg, key=ys.__getitem__)
        i_max = max(seg, key=ys.__getitem__)
        keep.extend(sorted({i_min, i_max}))
    return [xs[i] for i in keep], [ys[i] for i in keep]

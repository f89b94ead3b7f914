"""Server-side downsampling of a scalar series, keeping each bucket's min and max."""

from __future__ import annotations


def downsample(xs: list[float], ys: list[float | None],
               max_points: int) -> tuple[list[float], list[float | None]]:
    """At most ``max_points`` points, each bucket's extremes kept.

    ``None`` values (NaN/inf reported by the run) are never an extreme; a bucket of only
    ``None`` keeps its first point, so the gap stays visible.

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
        seg = [i for i in range(lo, hi) if ys[i] is not None]
        if not seg:
            keep.append(lo)
            continue
        i_min = min(seg, key=lambda i: ys[i])  # type: ignore[arg-type,return-value]
        i_max = max(seg, key=lambda i: ys[i])  # type: ignore[arg-type,return-value]
        keep.extend(sorted({i_min, i_max}))
    return [xs[i] for i in keep], [ys[i] for i in keep]

"""Measurements and how they print: a named figure with samples, a goal and a unit.

A :class:`Figure` holds raw samples (seconds, bytes or a count); the table shows the
median with min-max, the goal, and the ratio to a reference figure of the same group.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any


@dataclasses.dataclass
class Figure:
    suite: str
    name: str  # e.g. "startup: + hydratrack Task.init"
    samples: list[float]
    unit: str = "s"  # "s", "us", "ms", "MB", "/s"
    goal: float | None = None  # an upper bound in the same unit
    ref: str | None = None  # name of the figure the ratio is taken against
    note: str = ""
    stat: str = "median"  # what the table shows and the goal applies to: median | p95

    @property
    def value(self) -> float:
        return self.percentile(95) if self.stat == "p95" else self.median

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    def percentile(self, p: float) -> float:
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[k]

    @property
    def met(self) -> bool | None:
        return None if self.goal is None or not self.samples else self.value <= self.goal

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(median=self.median, p95=self.percentile(95), met=self.met)
        return d


def scaled(samples: list[float], unit: str) -> list[float]:
    """Seconds -> the display unit."""
    factor = {"s": 1.0, "ms": 1e3, "us": 1e6}.get(unit, 1.0)
    return [s * factor for s in samples]


def _num(v: float) -> str:
    if v != v:  # nan
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if abs(v) >= 0.1 else f"{v:.3g}"


def table(figures: list[Figure]) -> str:
    """A Markdown table: figure, median (min-max), n, goal, ratio to its reference."""
    by_name = {f.name: f for f in figures}
    rows = [
        "| figure | median or p95 (min–max) | n | goal | vs. | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        if f.samples:
            head = "p95 " if f.stat == "p95" else ""
            spread = (
                f"{head}{_num(f.value)} ({_num(min(f.samples))}–{_num(max(f.samples))}) {f.unit}"
            )
        else:
            spread = "not measured"
        goal = (
            ""
            if f.goal is None
            else f"≤ {_num(f.goal)} {f.unit} " + ("✔" if f.met else "✘" if f.met is False else "")
        )
        ratio = ""
        ref = by_name.get(f.ref or "")
        if ref is not None and ref.samples and f.samples and ref.value > 0:
            ratio = f"{f.value / ref.value:.3g}× {ref.name.split(': ', 1)[-1]}"
        rows.append(f"| {f.name} | {spread} | {len(f.samples)} | {goal} | {ratio} | {f.note} |")
    return "\n".join(rows)

"""Suite 2: report_scalar cost in the loop and time until every point is stored.

Each run is a fresh process of ``apps/log_worker.py`` (see its docstring for what
"stored" means per tracker). Counts per tracker are chosen so the suite ends in minutes;
where a peer cannot do 1M points in reasonable time, the figure says so and which count
it used instead.
"""

from __future__ import annotations

import json
import subprocess

from bench.context import APPS_DIR, Context
from bench.measure import Figure
from bench.peers import peer_env

LABEL = {
    "hydratrack": "hydratrack report_scalar",
    "clearml": "ClearML report_scalar (offline)",
    "mlflow": "MLflow log_metric (SQLite)",
    "mlflow_batch": "MLflow log_batch ×1000 (SQLite)",
    "mlflow_async": "MLflow log_metric synchronous=False (SQLite)",
}
ENV = {
    "hydratrack": "hydratrack",
    "clearml": "clearml",
    "mlflow": "mlflow",
    "mlflow_batch": "mlflow",
    "mlflow_async": "mlflow",
}


def plan(quick: bool, peers: bool) -> list[tuple[str, int, int, str]]:
    """(tracker, n, repeats, note)."""
    if quick:
        runs = [("hydratrack", 10_000, 2, ""), ("hydratrack", 100_000, 1, "quick: 100k, not 1M")]
        if peers:
            runs += [
                ("clearml", 1_000, 1, ""),
                ("mlflow", 200, 1, ""),
                ("mlflow_batch", 10_000, 1, ""),
                ("mlflow_async", 1_000, 1, ""),
            ]
        return runs
    runs = [("hydratrack", 10_000, 5, ""), ("hydratrack", 1_000_000, 2, "")]
    if peers:
        runs += [
            ("clearml", 10_000, 3, "1M infeasible: ~2 ms/call would take ~30 min"),
            ("mlflow", 1_000, 3, "1k, not 10k: ~15 ms/call"),
            ("mlflow_batch", 10_000, 3, ""),
            ("mlflow_batch", 100_000, 1, "100k, not 1M: ~0.1-0.5 ms/point"),
            ("mlflow_async", 5_000, 1, "5k only: its flush takes ~10 ms/point"),
        ]
    return runs


def run_worker(
    ctx: Context, tracker: str, n: int, env: dict[str, str] | None = None, timeout: float = 1800
) -> dict[str, object]:
    """One worker process; returns its BENCH_RESULT dict."""
    env_name = ENV[tracker]
    work = ctx.scratch(f"logging/{env_name}")
    if env is None:
        env = ctx.server.env() if env_name == "hydratrack" else peer_env(env_name, work)
    proc = subprocess.run(
        [ctx.python(env_name), str(APPS_DIR / "log_worker.py"), tracker, str(n)],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(
        f"{tracker} worker ({n}) gave no result, exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    )


def _n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def run(ctx: Context) -> None:
    results: dict[tuple[str, int], list[dict[str, object]]] = {}
    notes: dict[tuple[str, int], str] = {}
    for tracker, n, reps, note in plan(ctx.quick, ctx.peers):
        notes[(tracker, n)] = note
        for _ in range(reps):
            res = run_worker(ctx, tracker, n)
            if tracker == "hydratrack":
                counted = res["count"]
                if res.get("max") != float(n - 1) or (counted is not None and counted != n):
                    raise RuntimeError(f"hydratrack lost points: {res}")
            results.setdefault((tracker, n), []).append(res)
    ref_n = {n for (t, n) in results if t == "hydratrack"}
    for (tracker, n), runs in results.items():
        same = n if n in ref_n else min(ref_n, key=lambda m: abs(m - n)) if ref_n else n
        ref_call = f"logging: per call, {LABEL['hydratrack']}, {_n(same)}"
        ref_stored = f"logging: all stored, {LABEL['hydratrack']}, {_n(same)}"
        is_ht = tracker == "hydratrack"
        ctx.add(
            Figure(
                "logging",
                f"logging: per call, {LABEL[tracker]}, {_n(n)}",
                [float(r["loop_s"]) / n * 1e6 for r in runs],
                "us",
                goal=2.0 if is_ht else None,
                ref=None if is_ht else ref_call,
                note=notes[(tracker, n)],
            )
        )
        ctx.add(
            Figure(
                "logging",
                f"logging: all stored, {LABEL[tracker]}, {_n(n)}",
                [float(r["stored_s"]) for r in runs],
                "s",
                goal=5.0 if is_ht and n == 1_000_000 else None,
                ref=None if is_ht or same != n else ref_stored,
                note=notes[(tracker, n)],
            )
        )

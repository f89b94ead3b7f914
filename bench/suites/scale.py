"""Suite 3: the server with a big store: list pages, a hyperparameter filter, a plot.

Per backend (SQLite always; PostgreSQL with ``--pg URL``, or a throw-away cluster when the
PostgreSQL binaries are installed): a fresh database is made by ``hydratrack server``
(schema + admin), the server is stopped, ``bench.seed`` adds the tasks, the server is
started again, a 1M-point series is posted through the public API, and each query is
timed from a keep-alive HTTP client (the requests are sequential; the figures are
p50/p95 of end-to-end request time).

``BENCH_SCALE_SERIES_ONLY=1`` skips the 100k tasks and times only the 1M-point series
(its POST and the downsampled read), e.g. while working on the scalar path.
"""

from __future__ import annotations

import os
import random
import time
import uuid

import httpx

from bench.context import Context
from bench.measure import Figure
from bench.seed import LRS, seed_tasks
from bench.server import start_server

BATCH = 50_000


def _post_series(client: httpx.Client, points: int) -> tuple[str, float]:
    """A task with ``points`` scalars of loss/train, posted in big columnar batches (the
    ``scalars`` event the SDK sends); (id, seconds)."""
    task = client.post(
        "/tasks", json={"name": "big series", "project": "scale-series", "status": "in_progress"}
    )
    task.raise_for_status()
    task_id = task.json()["id"]
    t0 = time.perf_counter()
    now = time.time()
    for start in range(0, points, BATCH):
        iters = list(range(start, min(points, start + BATCH)))
        events = [
            {
                "type": "scalars",
                "metric": "loss",
                "variant": "train",
                "iters": iters,
                "values": [1.0 / (1 + i) for i in iters],
                "ts": [now + i * 1e-3 for i in iters],
            }
        ]
        r = client.post(
            f"/tasks/{task_id}/events",
            json={"batch_id": uuid.uuid4().hex, "events": events},
            timeout=600,
        )
        r.raise_for_status()
    return task_id, time.perf_counter() - t0


def _timed(client: httpx.Client, path: str, params: dict[str, object], check) -> float:
    t0 = time.perf_counter()
    r = client.get(path, params=params)
    elapsed = time.perf_counter() - t0
    r.raise_for_status()
    check(r.json())
    return elapsed


def _queries(
    ctx: Context,
    backend: str,
    url: str,
    auth: tuple[str, str],
    n_tasks: int,
    series_id: str,
    points: int,
    series_only: bool = False,
) -> None:
    reps = 15 if ctx.quick else 40
    rng = random.Random(3)
    with httpx.Client(base_url=url + "/api/v1", auth=auth, timeout=120) as client:

        def list_ok(body: dict) -> None:
            assert len(body["items"]) == 50 and body["total"] >= n_tasks, body.get("total")

        def filter_ok(body: dict) -> None:
            assert body["items"] and body["total"] > 0, body

        def one_ok(body: dict) -> None:
            assert body["total"] == 1, body["total"]

        def plot_ok(body: dict) -> None:
            assert 2 <= len(body["loss"]["train"]["x"]) <= 2000

        size = f"{points // 1_000_000}M" if points >= 1_000_000 else f"{points // 1000}k"
        plot = f"downsampled {size}-point series (2000 points)"
        cases = {
            "list page (offset 0-1000, -created)": (
                "/tasks",
                lambda: {"limit": 50, "offset": 50 * rng.randint(0, 20)},
                list_ok,
            ),
            "list page in a project (with 3 params, 1 metric)": (
                "/tasks",
                lambda: {
                    "limit": 50,
                    "project": f"scale-{rng.randint(0, 9)}",
                    "params": "Hydra/db,Hydra/optim.lr,Hydra/seed",
                    "metrics": "loss/train",
                },
                lambda b: None,
            ),
            "filter by hyperparameter (optim.lr, ~1/7 match)": (
                "/tasks",
                lambda: {"limit": 50, "param": f"Hydra/optim.lr={rng.choice(LRS)}"},
                filter_ok,
            ),
            "filter by hyperparameter (seed, 1 match)": (
                "/tasks",
                lambda: {"limit": 50, "param": f"Hydra/seed={rng.randrange(n_tasks)}"},
                one_ok,
            ),
            plot: (f"/tasks/{series_id}/scalars", lambda: {}, plot_ok),
        }
        goals = {
            "list page (offset 0-1000, -created)": 50.0,
            "list page in a project (with 3 params, 1 metric)": 50.0,
            "filter by hyperparameter (optim.lr, ~1/7 match)": 200.0,
            "filter by hyperparameter (seed, 1 match)": 200.0,
            plot: 200.0,
        }
        if series_only:
            cases = {plot: cases[plot]}
        for label, (path, params, check) in cases.items():
            for _ in range(3):  # warm caches
                _timed(client, path, params(), check)
            samples: list[float] = []
            began = time.monotonic()
            while len(samples) < reps:  # a slow query stops after 45 s (at least 10 runs)
                samples.append(_timed(client, path, params(), check) * 1e3)
                if len(samples) >= 10 and time.monotonic() - began > 45:
                    break
            for stat in ("median", "p95"):
                ctx.add(
                    Figure(
                        "scale",
                        f"scale {backend}: {label}, {stat}",
                        samples,
                        "ms",
                        goal=goals[label],
                        stat=stat,
                    )
                )


def _backend(ctx: Context, backend: str, db_url: str | None, n_tasks: int, points: int) -> None:
    base = ctx.scratch(f"scale-{backend}")
    series_only = os.environ.get("BENCH_SCALE_SERIES_ONLY") == "1"
    if not series_only:
        server = start_server(base, db_url=db_url)  # makes the schema and the admin
        server.stop()
        url = db_url or f"sqlite:///{base / 'data' / 'hydratrack.db'}"
        seconds = seed_tasks(url, n_tasks, log=ctx.log)
        if url.startswith("postgresql"):
            from bench.pg import vacuum_analyze

            vacuum_analyze(url)  # as autovacuum would after the bulk load
        ctx.add(
            Figure(
                "scale",
                f"scale {backend}: seeding {n_tasks:,} tasks (store layer)",
                [seconds],
                "s",
                note="setup, not a goal",
            )
        )
    server = start_server(base, db_url=db_url)
    try:
        auth = (server.access_key, server.secret_key)
        with httpx.Client(base_url=server.url + "/api/v1", auth=auth, timeout=600) as client:
            series_id, seconds = _post_series(client, points)
        ctx.add(
            Figure(
                "scale",
                f"scale {backend}: POST {points:,} points in {BATCH:,}-point batches",
                [seconds],
                "s",
                note="setup through the public API",
            )
        )
        _queries(ctx, backend, server.url, auth, n_tasks, series_id, points, series_only)
    finally:
        server.stop()


def run(ctx: Context) -> None:
    n_tasks = 5_000 if ctx.quick else 100_000
    points = 100_000 if ctx.quick else 1_000_000
    if "sqlite" in ctx.backends:
        _backend(ctx, "SQLite", None, n_tasks, points)
    if "postgresql" not in ctx.backends:
        return
    cluster = None
    pg_base = ctx.pg_url
    if not pg_base:
        from bench.pg import start_cluster

        try:
            cluster = start_cluster()
        except RuntimeError as exc:
            ctx.log(f"[bench] scale: PostgreSQL skipped: {exc}")
            return
        pg_base = cluster.url
    try:
        from bench.pg import create_database, drop_database

        name = f"hydratrack_bench_scale_{os.getpid()}"  # others may share the cluster
        try:
            _backend(ctx, "PostgreSQL", create_database(pg_base, name), n_tasks, points)
        finally:
            drop_database(pg_base, name)
    finally:
        if cluster is not None:
            cluster.stop()

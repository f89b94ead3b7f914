"""Suite 5: server RSS idle and under the logging load.

A fresh SQLite server: RSS after start-up and a few API calls (idle), then the peak and
the settled RSS while and after a logging worker sends 1M points (100k with --quick).
"""

from __future__ import annotations

import statistics
import threading
import time

import httpx

from bench.context import Context
from bench.measure import Figure
from bench.server import rss_mb, start_server
from bench.suites.logging import run_worker


def run(ctx: Context) -> None:
    n = 100_000 if ctx.quick else 1_000_000
    server = start_server(ctx.scratch("memory"))
    try:
        with httpx.Client(
            base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key)
        ) as client:
            for _ in range(20):  # the pages a UI opens, so lazy imports are done
                client.get("/tasks").raise_for_status()
                client.get("/projects").raise_for_status()
                client.get("/queues").raise_for_status()
        time.sleep(2)
        idle = [rss_mb(server.pid) for _ in range(10) if not time.sleep(0.1)]
        ctx.add(Figure("memory", "memory: server RSS idle", idle, "MB", goal=150.0))

        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(rss_mb(server.pid))
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            run_worker(ctx, "hydratrack", n, env=server.env())
        finally:
            stop.set()
            sampler.join()
        time.sleep(2)
        after = rss_mb(server.pid)
        label = f"{n // 1000}k" if n < 1_000_000 else "1M"
        ctx.add(
            Figure(
                "memory",
                f"memory: server RSS peak while storing {label} points",
                [max(samples)],
                "MB",
                note=f"median during load {statistics.median(samples):.0f} MB; "
                f"{after:.0f} MB 2 s after",
            )
        )
    finally:
        server.stop()

"""Logging worker: ``python log_worker.py TRACKER N`` reports N scalars and times it.

Prints one line ``BENCH_RESULT {json}`` with ``loop_s`` (the report loop alone) and
``stored_s`` (loop start until every point is stored: for hydratrack, until the server
acknowledged all batches and answers the last point; for ClearML offline, until its
logger flushed to the local offline session; MLflow writes synchronously, so the loop
end). Trackers: hydratrack, clearml, mlflow (log_metric), mlflow_batch (log_batch of
1000), mlflow_async (log_metric synchronous=False).
"""

from __future__ import annotations

import json
import sys
import time


def hydratrack(n: int) -> dict[str, object]:
    from hydratrack import Task

    task = Task.init(project_name="bench", task_name=f"logging {n}")
    log = task.get_logger()
    report = log.report_scalar
    t0 = time.perf_counter()
    for i in range(n):
        report("loss", "train", float(i), i)
    t1 = time.perf_counter()
    delivered = task.flush(timeout=900)
    t2 = time.perf_counter()
    # confirm through the public API that the last point is readable
    from hydratrack.client import ApiClient

    with ApiClient(timeout=120) as api:
        while True:
            last = api.request("GET", f"/tasks/{task.id}/scalars/last").json()
            point = last.get("loss", {}).get("train")
            if point and point["iter"] == n - 1:
                break
            if time.perf_counter() - t2 > 120:
                raise SystemExit(f"points not on the server 120 s after flush: {last}")
            time.sleep(0.01)
        t3 = time.perf_counter()
        count = None
        if n <= 100_000:  # exact count check (the API caps max_points at 100k)
            series = api.get_scalars(task.id, max_points=100_000)["loss"]["train"]
            count = len(series["x"])
    return {
        "loop_s": t1 - t0,
        "flush_s": t2 - t1,
        "stored_s": t3 - t0,
        "delivered": delivered,
        "count": count,
        "min": point["min"],
        "max": point["max"],
        "task_id": task.id,
    }


def clearml(n: int) -> dict[str, object]:
    from clearml import Task

    Task.set_offline(True)
    task = Task.init(
        project_name="bench",
        task_name=f"logging {n}",
        auto_connect_frameworks=False,
        auto_resource_monitoring=False,
    )
    log = task.get_logger()
    report = log.report_scalar
    t0 = time.perf_counter()
    for i in range(n):
        report("loss", "train", float(i), i)
    t1 = time.perf_counter()
    log.flush(wait=True)
    t2 = time.perf_counter()
    # task.close() is left out: it analyses installed packages and zips the offline
    # session, and took 283 s in a trial run on this machine (see bench/RESULTS.md).
    return {"loop_s": t1 - t0, "flush_s": t2 - t1, "stored_s": t2 - t0}


def mlflow_run(n: int, mode: str) -> dict[str, object]:
    import mlflow
    from mlflow.entities import Metric

    mlflow.set_experiment("bench")
    run = mlflow.start_run(run_name=f"logging {n} {mode}")
    client = mlflow.tracking.MlflowClient()
    t0 = time.perf_counter()
    if mode == "log_metric":
        for i in range(n):
            mlflow.log_metric("loss", float(i), step=i)
    elif mode == "async":
        for i in range(n):
            mlflow.log_metric("loss", float(i), step=i, synchronous=False)
    else:  # log_batch, 1000 metrics a call (MLflow's limit per batch)
        now = int(time.time() * 1000)
        for start in range(0, n, 1000):
            batch = [Metric("loss", float(i), now, i) for i in range(start, min(n, start + 1000))]
            client.log_batch(run.info.run_id, metrics=batch)
    t1 = time.perf_counter()
    if mode == "async":
        mlflow.flush_async_logging()
    t2 = time.perf_counter()
    mlflow.end_run()
    return {"loop_s": t1 - t0, "flush_s": t2 - t1, "stored_s": t2 - t0}


def main() -> None:
    tracker, n = sys.argv[1], int(sys.argv[2])
    if tracker == "hydratrack":
        result = hydratrack(n)
    elif tracker == "clearml":
        result = clearml(n)
    elif tracker == "mlflow":
        result = mlflow_run(n, "log_metric")
    elif tracker == "mlflow_batch":
        result = mlflow_run(n, "log_batch")
    elif tracker == "mlflow_async":
        result = mlflow_run(n, "async")
    else:
        raise SystemExit(f"unknown tracker {tracker!r}")
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    if tracker == "clearml":  # skip ClearML's exit handlers (minutes of package analysis)
        import os

        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()

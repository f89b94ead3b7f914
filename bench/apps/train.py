"""The Hydra app every tracker runs in the startup suite (bench-owned, not an example).

``BENCH_TRACKER`` picks what the app does besides composing its config:
``bare`` (nothing), ``hydratrack`` (Task.init), ``clearml`` (Task.init, offline),
``mlflow`` (start_run + log_params on SQLite). Each tracker is imported inside the job,
as a user would, so its import cost counts.
"""

from __future__ import annotations

import atexit
import os
import sys
import time

import hydra
from omegaconf import DictConfig, OmegaConf


def _flat(cfg: DictConfig) -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = node

    walk("", OmegaConf.to_container(cfg, resolve=False))
    return out


def track(cfg: DictConfig, tracker: str) -> None:
    if tracker == "bare":
        return
    ms: dict[str, float] = {}
    if os.environ.get("BENCH_TRACE"):
        _trace(ms)  # before the tracker starts: this exit handler then runs after its own
    t0 = time.perf_counter()
    if tracker == "hydratrack":
        from hydratrack import Task

        t1 = time.perf_counter()
        Task.init(project_name="bench", task_name="startup")
    elif tracker == "clearml":
        from clearml import Task as ClearmlTask

        t1 = time.perf_counter()
        ClearmlTask.set_offline(True)
        ClearmlTask.init(project_name="bench", task_name="startup")
    elif tracker == "mlflow":
        import mlflow

        t1 = time.perf_counter()
        mlflow.set_experiment("bench")
        mlflow.start_run(run_name="startup")
        mlflow.log_params({k: str(v)[:250] for k, v in _flat(cfg).items()})
    else:
        raise SystemExit(f"BENCH_TRACKER={tracker!r}: expected bare, hydratrack, clearml or mlflow")
    ms.update(import_ms=(t1 - t0) * 1e3, init_ms=(time.perf_counter() - t1) * 1e3)


def _trace(ms: dict[str, float]) -> None:
    """With BENCH_TRACE=1: where a tracker's time goes (import, init, exit handlers)."""
    t_end: list[float] = []

    def at_exit() -> None:  # registered before hydratrack's handler, so it runs after it
        print(
            "BENCH_TRACE "
            + " ".join(f"{k}={v:.2f}" for k, v in ms.items())
            + f" exit_ms={(time.perf_counter() - t_end[0]) * 1e3:.2f}",
            file=sys.stderr,
        )

    atexit.register(at_exit)
    _END_HOOKS.append(lambda: t_end.append(time.perf_counter()))


_END_HOOKS: list = []


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    track(cfg, os.environ.get("BENCH_TRACKER", "bare"))
    # a token of work: the app reads its config like a real one would
    assert cfg.train.epochs > 0
    for hook in _END_HOOKS:
        hook()


if __name__ == "__main__":
    main()

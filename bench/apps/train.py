"""The Hydra app every tracker runs in the startup suite (bench-owned, not an example).

``BENCH_TRACKER`` picks what the app does besides composing its config:
``bare`` (nothing), ``hydratrack`` (Task.init), ``clearml`` (Task.init, offline),
``mlflow`` (start_run + log_params on SQLite). Each tracker is imported inside the job,
as a user would, so its import cost counts.
"""

from __future__ import annotations

import os

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
    if tracker == "hydratrack":
        from hydratrack import Task

        Task.init(project_name="bench", task_name="startup")
    elif tracker == "clearml":
        from clearml import Task as ClearmlTask

        ClearmlTask.set_offline(True)
        ClearmlTask.init(project_name="bench", task_name="startup")
    elif tracker == "mlflow":
        import mlflow

        mlflow.set_experiment("bench")
        mlflow.start_run(run_name="startup")
        mlflow.log_params({k: str(v)[:250] for k, v in _flat(cfg).items()})
    else:
        raise SystemExit(f"BENCH_TRACKER={tracker!r}: expected bare, hydratrack, clearml or mlflow")


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    track(cfg, os.environ.get("BENCH_TRACKER", "bare"))
    # a token of work: the app reads its config like a real one would
    assert cfg.train.epochs > 0


if __name__ == "__main__":
    main()

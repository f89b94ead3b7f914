"""A real Hydra app for the replay tests: config groups (nested, list-valued) and `+` keys.

It records itself with hydratrack, logs ``job log lr=...``, prints the job config it
received as one JSON line (``CFG {...}``, resolved) and raises ``ValueError`` when its config has a ``fail`` key.
"""

from __future__ import annotations

import json
import logging
import os

import hydra
from omegaconf import DictConfig, OmegaConf

from hydratrack import Task


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    task = Task.init(project_name=os.environ.get("REPLAY_PROJECT", "replay"), task_name="replay")
    print(f"HYDRATRACK_TASK={task.id}", flush=True)
    logging.getLogger(__name__).info("job log lr=%s", cfg.lr)
    print(
        "CFG " + json.dumps(OmegaConf.to_container(cfg, resolve=True), sort_keys=True), flush=True
    )
    if "fail" in cfg:
        raise ValueError(f"cannot use {cfg.fail}")


if __name__ == "__main__":
    main()

"""A small real Hydra app for the agent's end-to-end tests.

It records itself with hydratrack (unless HYDRATRACK_TEST_NO_SDK is set), prints and
reports as scalars the config values it saw, can sleep (to be aborted) and can fail.
"""

from __future__ import annotations

import os
import sys
import time

import hydra
from omegaconf import DictConfig, OmegaConf


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    task = None
    if not os.environ.get("HYDRATRACK_TEST_NO_SDK"):
        from hydratrack import Task

        task = Task.init(
            project_name=os.environ.get("TRAINER_PROJECT", "agent-e2e"), task_name="trainer"
        )
    number = cfg.dataset.main.number
    print(
        f"SAW number={number} derived={cfg.dataset.derived} db={cfg.db.driver} port={cfg.db.port}",
        flush=True,
    )
    print("SAW_YAML " + OmegaConf.to_yaml(cfg).replace("\n", "|"), flush=True)
    if task is not None:
        log = task.get_logger()
        log.report_scalar("seen", "number", value=float(number), iteration=0)
        log.report_scalar("seen", "derived", value=float(cfg.dataset.derived), iteration=0)
        log.report_scalar("seen", "port", value=float(cfg.db.port), iteration=0)
    deadline = time.monotonic() + float(cfg.train.sleep)
    while time.monotonic() < deadline:
        if not cfg.train.quiet:
            print("working", flush=True)
        time.sleep(0.2)
    if cfg.train.fail:
        print("failing on purpose", file=sys.stderr, flush=True)
        raise SystemExit(3)
    print("done", flush=True)


if __name__ == "__main__":
    main()

"""hydratrack's example Hydra app: two lines record the config and every override.

python examples/hydra/train.py db=postgresql dataset.main.number=90
python examples/hydra/train.py +experiment=fast ~model.dropout
"""

from __future__ import annotations

import math
import time

import hydra
from omegaconf import DictConfig

from hydratrack import Task


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    task = Task.init(project_name="examples", task_name="train")
    log = task.get_logger()
    print(f"db {cfg.db.driver} at {cfg.db.host}:{cfg.db.port}, dataset {cfg.dataset.main.name}")
    loss = 1.0
    for epoch in range(cfg.train.epochs):
        for step in range(cfg.train.steps_per_epoch):
            it = epoch * cfg.train.steps_per_epoch + step
            loss = cfg.train.lr * 10 / (1 + it) + 0.01 * math.sin(it)
            log.report_scalar("loss", "train", value=loss, iteration=it)
        acc = 1 - loss / 2
        log.report_scalar("accuracy", "val", value=acc, iteration=epoch)
        print(f"epoch {epoch}: loss {loss:.4f} accuracy {acc:.3f}")
        time.sleep(cfg.train.sleep)
    return loss


if __name__ == "__main__":
    main()

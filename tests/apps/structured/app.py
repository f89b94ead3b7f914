"""A structured (dataclass) primary config: enums, Optional, lists, nested dataclasses."""

from dataclasses import dataclass, field
from enum import Enum

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

from hydratrack import Task


class Mode(Enum):
    FAST = 1
    SLOW = 2


@dataclass
class Db:
    host: str = "localhost"
    port: int = 3306
    timeout: float | None = None


@dataclass
class Config:
    db: Db = field(default_factory=Db)
    mode: Mode = Mode.SLOW
    tags: list[str] = field(default_factory=lambda: ["a", "b"])
    ratio: float = 0.5
    label: str | None = None
    crash: bool = False


ConfigStore.instance().store(name="config", node=Config)


@hydra.main(version_base=None, config_name="config")
def main(cfg: DictConfig) -> None:
    task = Task.init(project_name="tests", task_name="structured")
    print(f"HYDRATRACK_TASK={task.id}", flush=True)
    task.get_logger().report_scalar("ratio", "cfg", value=cfg.ratio, iteration=0)
    if cfg.crash:
        raise RuntimeError("boom: structured")


if __name__ == "__main__":
    main()

"""A Hydra app with a structured (dataclass) config: types and struct mode must hold."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf


@dataclass
class Optim:
    lr: float = 0.1
    steps: int = 10


@dataclass
class Config:
    optim: Optim = field(default_factory=Optim)
    name: str = "typed"
    total: int = "${optim.steps}"  # type: ignore[assignment]


ConfigStore.instance().store(name="typed", node=Config)


@hydra.main(version_base="1.3", config_name="typed")
def main(cfg: Config) -> None:
    if not os.environ.get("HYDRATRACK_TEST_NO_SDK"):
        from hydratrack import Task

        Task.init(project_name=os.environ.get("TRAINER_PROJECT", "agent-e2e"), task_name="typed")
    print(
        f"SAW lr={cfg.optim.lr} steps={cfg.optim.steps} total={cfg.total} name={cfg.name}",
        flush=True,
    )
    print(
        f"TYPE optim={OmegaConf.get_type(cfg.optim).__name__} struct={OmegaConf.is_struct(cfg)}",
        flush=True,
    )


if __name__ == "__main__":
    main()

"""Task.init at module level, before the @hydra.main function runs."""

import hydra
from omegaconf import DictConfig

from hydratrack import Task

task = Task.init(project_name="tests", task_name="early")


@hydra.main(version_base=None, config_path="../groups/conf", config_name="config")
def main(cfg: DictConfig) -> None:
    print(f"HYDRATRACK_TASK={task.id}", flush=True)
    task.get_logger().report_scalar("seed", "cfg", value=cfg.seed, iteration=0)
    print(f"db={cfg.db.driver}")
    if cfg.crash:
        raise RuntimeError("boom: early")


if __name__ == "__main__":
    main()

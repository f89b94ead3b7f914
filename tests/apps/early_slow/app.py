"""Task.init at module level, then a slow setup before the @hydra.main function runs."""

import time

import hydra
from omegaconf import DictConfig

from hydratrack import Task

task = Task.init(project_name="tests", task_name="early_slow")
print(f"HYDRATRACK_TASK={task.id}", flush=True)
time.sleep(4.5)  # longer than the SDK holds back: the task is created before the job


@hydra.main(version_base=None, config_path="../groups/conf", config_name="config")
def main(cfg: DictConfig) -> None:
    task.get_logger().report_scalar("seed", "cfg", value=cfg.seed, iteration=0)
    print(f"db={cfg.db.driver}")


if __name__ == "__main__":
    main()

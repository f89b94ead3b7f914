"""Config groups, a defaults-list append target, interpolations (incl. oc.env), unicode."""

import hydra
from omegaconf import DictConfig, OmegaConf

from hydratrack import Task


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    task = Task.init(project_name="tests", task_name="groups")
    print(f"HYDRATRACK_TASK={task.id}", flush=True)
    log = task.get_logger()
    for i in range(5):
        log.report_scalar("loss", "train", value=1.0 / (i + 1), iteration=i)
    log.report_scalar("grad", "norm", value=float("nan"), iteration=0)
    log.report_scalar("grad", "norm", value=2.0, iteration=1)
    driver = OmegaConf.select(cfg, "db.driver")
    print(f"db={driver} épsilon ✓")
    if cfg.get("crash"):
        raise RuntimeError(f"boom: crash requested for {driver}")


if __name__ == "__main__":
    main()

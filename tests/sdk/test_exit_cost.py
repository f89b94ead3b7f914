"""What a short run costs at exit, checked on a real Hydra app against the real server:
the run's data travels over the SDK's own HTTP/1.1 socket wire (neither httpx nor
``http.client`` nor ``ssl`` is imported, artifacts included), and nothing is lost on the
way."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from hydratrack.client.api import ApiClient
from tests.support.servers import ServerProcess

APP = """
import atexit, sys
import hydra
from omegaconf import DictConfig

def report():  # registered before Task.init, so it runs after hydratrack's exit handler
    loaded = sorted(m for m in ("httpx", "httpcore", "h11", "http.client", "ssl")
                    if m in sys.modules)
    print("LOADED", loaded, flush=True)

@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg: DictConfig) -> None:
    atexit.register(report)
    from hydratrack import Task
    task = Task.init(project_name="speed", task_name="short")
    print(f"HYDRATRACK_TASK={task.id}")
    for i in range(cfg.steps):
        task.get_logger().report_scalar("loss", "train", value=1.0 / (i + 1), iteration=i)
    task.upload_artifact("stats", {"steps": cfg.steps})
    print("done", flush=True)

if __name__ == "__main__":
    main()
"""


def test_short_run_lands_whole_without_an_http_library(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "config.yaml").write_text("steps: 5\n")
    proc = subprocess.run(
        [sys.executable, "app.py", "steps=7"],
        cwd=tmp_path,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hydratrack: warning" not in proc.stderr
    assert "LOADED []" in proc.stdout  # the socket wire only, even for the artifact
    task_id = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]

    task = api.get_task(task_id)
    assert task["status"] == "completed"
    script = task["script"]
    assert script["argv"] == ["steps=7"]
    import hydra

    assert script["requirements"]["pip"]["hydra_core"] == hydra.__version__
    assert task["hyperparams"]["Hydra"]["steps"]["value"] == "7"
    scalars = api.get_scalars(task_id)
    assert scalars["loss"]["train"]["x"] == list(range(7))
    console = "".join(i["text"] for i in api.get_console(task_id)["items"])
    assert "done\n" in console
    assert json.loads(api.download_artifact(task_id, "stats")) == {"steps": 7}


SILENT_APP = """
import sys
import hydra
import hydra.utils
from omegaconf import DictConfig

@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg: DictConfig) -> None:
    from hydratrack import Task
    task = Task.init(project_name="speed", task_name="silent")
    with open(hydra.utils.to_absolute_path("task_id.txt"), "w") as fh:
        fh.write(task.id)
    if cfg.fail:
        sys.exit(3)

if __name__ == "__main__":
    main()
"""


def test_a_silent_short_run_is_stored_whole_and_finished(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    """Nothing printed, nothing reported: the run ends before its create request is sent,
    so the final status rides in it (one request); the task must still be whole."""
    (tmp_path / "app.py").write_text(textwrap.dedent(SILENT_APP))
    (tmp_path / "config.yaml").write_text("fail: false\nlr: 0.1\n")
    for args, status in ((["lr=0.5"], "completed"), (["fail=true"], "failed")):
        proc = subprocess.run(
            [
                sys.executable,
                "app.py",
                *args,
                "hydra.run.dir=out",
                "hydra/job_logging=disabled",
                "hydra/hydra_logging=disabled",
            ],
            cwd=tmp_path,
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "hydratrack: warning" not in proc.stderr, proc.stderr
        task = api.get_task((tmp_path / "task_id.txt").read_text())
        assert task["status"] == status, task
        assert task["started"] and task["completed"]
        assert task["configuration"]["OmegaConf"]["value"].startswith("fail: ")
        assert task["hyperparams"]["Hydra"][args[0].split("=")[0]]["value"] == args[0].split("=")[1]
        if status == "failed":
            assert task["status_message"].startswith("exit code 3")

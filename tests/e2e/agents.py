"""Helpers for end-to-end tests: a real server, real agent processes, the trainer app."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess

APPS = Path(__file__).resolve().parent / "apps"
FINAL = {"completed", "failed", "stopped"}  # statuses a run ends in


def copy_trainer(dest: Path) -> Path:
    """A copy of the trainer app outside any git repository."""
    shutil.copytree(APPS / "trainer", dest, ignore=shutil.ignore_patterns("__pycache__", "outputs"))
    return dest


def run_locally(
    server: ServerProcess, app_dir: Path, project: str, *overrides: str
) -> dict[str, Any]:
    """Run the trainer app with the SDK, as a user would; return its task once it ended."""
    args = [sys.executable, "app.py", f"hydra.run.dir={app_dir}/outputs/local", *overrides]
    done = subprocess.run(
        args,
        cwd=app_dir,
        env=server.env(TRAINER_PROJECT=project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    api = server.client()
    try:

        def ended() -> dict[str, Any] | None:
            items = api.list_tasks(project=project)["items"]
            return items[0] if items and items[0]["status"] == "completed" else None

        task = wait_until(ended, 30, f"local run in project {project} to complete")
        return api.get_task(task["id"])
    finally:
        api.close()


def wait_until(probe: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


def wait_status(
    api: ApiClient, task_id: str, statuses: set[str], timeout: float = 60
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        task = api.get_task(task_id)
        return task if task["status"] in statuses else None

    return wait_until(probe, timeout, f"task {task_id} to be {'/'.join(sorted(statuses))}")


def console_text(api: ApiClient, task_id: str) -> str:
    return "".join(item["text"] for item in api.get_console(task_id, limit=10000)["items"])


class AgentProcess:
    def __init__(
        self,
        server: ServerProcess,
        workdir: Path,
        *args: str,
        name: str = "agent",
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = workdir.parent / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
        workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "hydratrack",
            "agent",
            "--workdir",
            str(workdir),
            "--name",
            name,
            "--heartbeat-seconds",
            "0.5",
            "--poll-seconds",
            "5",
            "--grace-seconds",
            "3",
            *args,
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env or server.env()
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"started process (\d+)", self.log())]

    def claimed(self) -> list[str]:
        return re.findall(r"claimed task ([0-9a-f]{32})", self.log())

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid in self.child_pids():  # never leave a task's process behind
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.proc.returncode

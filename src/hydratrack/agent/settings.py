"""The agent's settings, declared once: the CLI flags, ``--help`` and docs come from here.

Each setting may also come from the environment, ``HYDRATRACK_AGENT_<NAME>`` (the flag
wins); ``--queue`` from the environment is a space-separated list.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

from hydratrack.setting import Setting as _Setting


class Setting(_Setting):
    """A agent setting; its environment variable is ``HYDRATRACK_AGENT_<NAME>``."""

    env_prefix = "HYDRATRACK_AGENT_"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "queue",
        ["default"],
        list[str],
        "Queue to serve; repeat for several (the first has the highest priority).",
    ),
    Setting(
        "venv",
        False,
        bool,
        "Run each task in a venv built from its recorded packages, cached by their hash.",
    ),
    Setting(
        "workdir",
        "~/.hydratrack/agent",
        str,
        "Where repository clones, task checkouts, venvs and edit files go.",
    ),
    Setting("name", "", str, "Worker name shown in the UI (default host:pid)."),
    Setting(
        "poll_seconds",
        20.0,
        float,
        "Long-poll time of one claim (the server answers as soon as a task comes).",
    ),
    Setting(
        "heartbeat_seconds",
        5.0,
        float,
        "Seconds between heartbeats; keep well under the server's --lease-seconds.",
    ),
    Setting("grace_seconds", 10.0, float, "On abort: seconds between SIGTERM and SIGKILL."),
    Setting("once", False, bool, "Stop after one task."),
    Setting("echo", False, bool, "Also print the tasks' console on the agent's stdout/stderr."),
    Setting(
        "only_user",
        [],
        list[str],
        "Take only tasks created by this user; repeat for several (default: anyone's).",
    ),
    Setting(
        "only_project",
        [],
        list[str],
        "Take only tasks of this project; repeat for several (default: any project).",
    ),
)


@dataclasses.dataclass
class AgentSettings:
    queue: list[str] = dataclasses.field(default_factory=lambda: ["default"])
    venv: bool = False
    workdir: str = "~/.hydratrack/agent"
    name: str = ""
    poll_seconds: float = 20.0
    heartbeat_seconds: float = 5.0
    grace_seconds: float = 10.0
    once: bool = False
    echo: bool = False
    only_user: list[str] = dataclasses.field(default_factory=list)
    only_project: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or f"{socket.gethostname()}:{os.getpid()}"
        if not self.queue:
            raise ValueError("the agent needs at least one --queue")
        for field in ("poll_seconds", "heartbeat_seconds", "grace_seconds"):
            if getattr(self, field) <= 0:
                raise ValueError(f"--{field.replace('_', '-')} must be > 0")

    @property
    def workdir_path(self) -> Path:
        return Path(self.workdir).expanduser()

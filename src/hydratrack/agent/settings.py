"""The agent's settings, declared once as the fields of :class:`AgentSettings`: the CLI
flags, ``--help`` and docs come from them (:data:`SETTINGS`).

Each setting may also come from the environment, ``HYDRATRACK_AGENT_<NAME>`` (the flag
wins); ``--queue`` from the environment is a space-separated list.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

from hydratrack.setting import Setting as _Setting
from hydratrack.setting import option, table


class Setting(_Setting):
    """A agent setting; its environment variable is ``HYDRATRACK_AGENT_<NAME>``."""

    env_prefix = "HYDRATRACK_AGENT_"


@dataclasses.dataclass
class AgentSettings:
    queue: list[str] = option(
        ["default"], "Queue to serve; repeat for several (the first has the highest priority)."
    )
    venv: bool = option(
        False, "Run each task in a venv built from its recorded packages, cached by their hash."
    )
    workdir: str = option(
        "~/.hydratrack/agent", "Where repository clones, task checkouts, venvs and edit files go."
    )
    name: str = option("", "Worker name shown in the UI (default host:pid).")
    poll_seconds: float = option(
        20.0, "Long-poll time of one claim (the server answers as soon as a task comes)."
    )
    heartbeat_seconds: float = option(
        5.0, "Seconds between heartbeats; keep well under the server's --lease-seconds."
    )
    grace_seconds: float = option(10.0, "On abort: seconds between SIGTERM and SIGKILL.")
    once: bool = option(False, "Stop after one task.")
    echo: bool = option(False, "Also print the tasks' console on the agent's stdout/stderr.")
    only_user: list[str] = option(
        [], "Take only tasks created by this user; repeat for several (default: anyone's)."
    )
    only_project: list[str] = option(
        [], "Take only tasks of this project; repeat for several (default: any project)."
    )

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


SETTINGS: tuple[Setting, ...] = table(AgentSettings, Setting)

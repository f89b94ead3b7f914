"""hydratrack: experiment manager for Hydra applications.

    from hydratrack import Task
    task = Task.init(project_name="demo", task_name="train")

Importing this package is cheap: the SDK is loaded on first use of a public name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Logger", "Task", "TaskStatus", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.sdk.logger import Logger
    from hydratrack.sdk.task import Task
    from hydratrack.status import TaskStatus


def __getattr__(name: str) -> Any:
    if name == "Task":
        from hydratrack.sdk.task import Task

        return Task
    if name == "Logger":
        from hydratrack.sdk.logger import Logger

        return Logger
    if name == "TaskStatus":
        from hydratrack.status import TaskStatus

        return TaskStatus
    raise AttributeError(f"module 'hydratrack' has no attribute {name!r}")

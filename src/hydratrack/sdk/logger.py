"""``Logger``: scalars and text reports of a task (ClearML's names).

Reporting is a tuple appended to the sender's deque: no locks, no formatting, no I/O on
the calling thread. The background sender turns tuples into events and batches them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.sdk.task import Task


class Logger:
    """Get it with ``task.get_logger()`` or ``Logger.current_logger()``."""

    def __init__(self, append: Callable[[tuple[Any, ...]], None], task_id: str) -> None:
        self._append = append
        self.task_id = task_id

    @classmethod
    def current_logger(cls) -> Logger:
        """The logger of the task made by ``Task.init`` in this process."""
        from hydratrack.sdk.task import Task

        task = Task.current_task()
        if task is None:
            raise RuntimeError("no current task: call Task.init(...) first")
        return task.get_logger()

    def report_scalar(self, title: str, series: str, value: float, iteration: int) -> None:
        """Record ``value`` of metric ``title`` / variant ``series`` at ``iteration``."""
        try:
            self._append(("scalar", title, series, int(iteration), float(value), time.time()))
        except (TypeError, ValueError):
            raise TypeError(
                f"report_scalar({title!r}, {series!r}): value must be a number and iteration "
                f"an integer, got value={value!r}, iteration={iteration!r}"
            ) from None

    def report_text(
        self, msg: str, title: str = "text", iteration: int = 0, print_console: bool = False
    ) -> None:
        """Record a text report (and print it when ``print_console``)."""
        if print_console:
            print(msg)
        self._append(("text", str(title), str(msg), int(iteration), time.time()))

    def report_single_value(self, name: str, value: float) -> None:
        """A summary value: reported as metric ``Summary`` / ``name`` at iteration 0."""
        self.report_scalar("Summary", name, value, 0)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until reports made so far reached the server (or the spool)."""
        from hydratrack.sdk.task import Task

        task: Task | None = Task.current_task()
        return task.flush(timeout) if task is not None and task.id == self.task_id else True

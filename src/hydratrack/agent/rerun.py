"""``hydratrack rerun TASK_ID``: run a task here, in the foreground, the way an agent would.

The source task is cloned (the new task's ``parent`` is the source, edits included), the
clone is marked ``in_progress`` and run by the same :class:`TaskRunner` as the agent's,
its console echoed to this terminal. With no worker there is no lease; an abort from the
UI or API (which marks a worker-less run ``stopped``) is noticed by polling the task.
Ctrl-C aborts the run (reported ``stopped``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from hydratrack.agent.runner import TaskRunner
from hydratrack.client import ApiClient, ApiError
from hydratrack.status import TaskStatus

log = logging.getLogger("hydratrack.agent")


def rerun(
    api: ApiClient,
    runner: TaskRunner,
    source_id: str,
    *,
    name: str | None = None,
    poll_seconds: float = 1.0,
) -> dict[str, Any]:
    """Clone ``source_id``, run the clone here; return the clone as it ended."""
    source = api.get_task(source_id)
    clone = api.clone_task(source_id, name=name or f"{source['name']} (rerun)")
    task_id = str(clone["id"])
    log.info("task %s cloned from %s", task_id, source_id)
    api.set_status(task_id, TaskStatus.IN_PROGRESS.value, message="rerun")
    task = api.get_task(task_id, unmasked=True)  # the run needs the real secret values
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_seconds):
            try:
                status = api.get_task(task_id)["status"]
            except ApiError:
                continue
            if status != TaskStatus.IN_PROGRESS.value:
                runner.abort(f"task became {status}")
                return

    watcher = threading.Thread(target=watch, daemon=True, name="hydratrack-rerun-watch")
    watcher.start()
    try:
        runner.run(task)
    except KeyboardInterrupt:  # pragma: no cover - the runner waits in short steps
        runner.abort("interrupted")
        raise
    finally:
        done.set()
    return api.get_task(task_id)

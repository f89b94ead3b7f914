"""One task read or changed in one transaction, for the routes under ``/tasks/{id}``.

An unknown id answers 404 (``tasks_repo.get_row`` raises ``NotFound``) before anything else
is read or written.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from sqlalchemy.engine import Connection

from hydratrack.server.context import ServerContext
from hydratrack.server.store import tasks as tasks_repo

T = TypeVar("T")


def read_task(ctx: ServerContext, task_id: str, read: Callable[[Connection], T]) -> T:
    """``read(conn)`` of an existing task, in one read transaction."""
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        return read(conn)


def change_task(
    ctx: ServerContext, task_id: str, change: Callable[[Connection], object]
) -> dict[str, Any]:
    """Apply ``change(conn)`` (a lifecycle step, which checks the task's state) in one write
    transaction; answer the task as it now is."""
    with ctx.db.write() as conn:
        change(conn)
        return tasks_repo.get(conn, task_id)

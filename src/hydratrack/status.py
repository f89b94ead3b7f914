"""Task states, shared by the server, the SDK and the agent.

The lifecycle (docs/contracts.md, "Task lifecycle")::

    draft -> queued -> in_progress -> completed | failed | stopped
    queued -> draft                    (dequeue)
    completed | failed | stopped -> draft      (reset)
    completed | failed | stopped -> published  (publish; locks the task)
"""

from __future__ import annotations

import enum


class TaskStatus(str, enum.Enum):
    DRAFT = "draft"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    PUBLISHED = "published"

    def __str__(self) -> str:  # "draft", not "TaskStatus.DRAFT"
        return self.value

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.PUBLISHED}
)

# Transitions the server allows, keyed by (from, to). Same-state "transitions" are
# accepted as no-ops by the runner endpoint so that retries are idempotent.
ALLOWED_TRANSITIONS: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    {
        (TaskStatus.DRAFT, TaskStatus.QUEUED),
        (TaskStatus.DRAFT, TaskStatus.IN_PROGRESS),
        (TaskStatus.QUEUED, TaskStatus.DRAFT),
        (TaskStatus.QUEUED, TaskStatus.IN_PROGRESS),
        (TaskStatus.QUEUED, TaskStatus.STOPPED),
        (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED),
        (TaskStatus.IN_PROGRESS, TaskStatus.FAILED),
        (TaskStatus.IN_PROGRESS, TaskStatus.STOPPED),
        (TaskStatus.COMPLETED, TaskStatus.DRAFT),
        (TaskStatus.FAILED, TaskStatus.DRAFT),
        (TaskStatus.STOPPED, TaskStatus.DRAFT),
        (TaskStatus.COMPLETED, TaskStatus.PUBLISHED),
        (TaskStatus.FAILED, TaskStatus.PUBLISHED),
        (TaskStatus.STOPPED, TaskStatus.PUBLISHED),
    }
)


# How a run ends: what in_progress moves to. A task may also be created in one of these (a
# run that ended before its create request was sent). As strings: RUN_OUTCOME_VALUES.
RUN_OUTCOMES = frozenset(dst for src, dst in ALLOWED_TRANSITIONS if src == TaskStatus.IN_PROGRESS)
RUN_OUTCOME_VALUES = frozenset(s.value for s in RUN_OUTCOMES)


def can_transition(src: TaskStatus | str, dst: TaskStatus | str) -> bool:
    return (TaskStatus(src), TaskStatus(dst)) in ALLOWED_TRANSITIONS

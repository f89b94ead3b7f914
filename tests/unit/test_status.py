from __future__ import annotations

import pytest

from hydratrack.status import ALLOWED_TRANSITIONS, TaskStatus, can_transition


def test_lifecycle_from_design() -> None:
    s = TaskStatus
    path = [s.DRAFT, s.QUEUED, s.IN_PROGRESS, s.COMPLETED]
    for a, b in zip(path, path[1:], strict=False):
        assert can_transition(a, b)
    assert can_transition("queued", "draft")  # dequeue
    assert can_transition("completed", "published")


@pytest.mark.parametrize("dst", list(TaskStatus))
def test_published_is_locked(dst: TaskStatus) -> None:
    assert not can_transition(TaskStatus.PUBLISHED, dst)


def test_no_transition_back_to_running_from_final() -> None:
    for src in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED):
        assert not can_transition(src, TaskStatus.IN_PROGRESS)
        assert not can_transition(src, TaskStatus.QUEUED)
    assert all(a != b for a, b in ALLOWED_TRANSITIONS)


def test_str_is_value() -> None:
    assert str(TaskStatus.IN_PROGRESS) == "in_progress"
    with pytest.raises(ValueError):
        TaskStatus("running")

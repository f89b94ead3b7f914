"""The lost-worker policy as a pure function (server/store/leases.py ``decide``)."""

from __future__ import annotations

import pytest

from hydratrack.server.store.leases import decide
from hydratrack.status import TaskStatus as S

LOST = "worker gpu-1 lost: no heartbeat for 30 s"


@pytest.mark.parametrize(
    ("policy", "retries", "attempt", "status", "reason"),
    [
        ("fail", 0, 1, S.FAILED, LOST),
        ("fail", 5, 1, S.FAILED, LOST),  # retries count only with requeue
        ("requeue", 2, 1, S.QUEUED, f"{LOST}; requeued, attempt 2 of 3"),
        ("requeue", 2, 2, S.QUEUED, f"{LOST}; requeued, attempt 3 of 3"),
        ("requeue", 2, 3, S.FAILED, f"{LOST}; failed after 3 attempts"),
        ("requeue", 0, 1, S.FAILED, f"{LOST}; failed after 1 attempt"),
        ("requeue", 1, 0, S.QUEUED, f"{LOST}; requeued, attempt 2 of 2"),  # claimed before 0010
    ],
)
def test_decide(policy: str, retries: int, attempt: int, status: S, reason: str) -> None:
    outcome = decide("gpu-1", 30.0, policy, retries, attempt)
    assert (outcome.status, outcome.reason) == (status, reason)
    assert outcome.requeue is (status is S.QUEUED)


def test_a_task_being_aborted_is_stopped_not_requeued() -> None:
    outcome = decide("gpu-1", 2.5, "requeue", 3, 1, aborting=True)
    assert outcome.status is S.STOPPED
    assert (
        outcome.reason
        == "worker gpu-1 lost: no heartbeat for 2.5 s; stopped (an abort was requested)"
    )

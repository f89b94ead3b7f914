"""Which failed requests the agent retries, and how long it waits between tries.

No answer (server down or restarting) and server errors pass: the agent keeps what it
has and tries again. An answer that refuses the request (4xx) will not change.
"""

from __future__ import annotations

from hydratrack.client import ApiError

MAX_DELAY = 5.0


def transient(exc: ApiError) -> bool:
    """True when trying again later may succeed (no answer, 5xx, 408, 429)."""
    return exc.status == 0 or exc.status >= 500 or exc.status in (408, 429)


def delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed tries in a row: 0.5, 1, 1.5 ... 5."""
    return min(MAX_DELAY, 0.5 * failures)

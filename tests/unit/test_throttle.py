"""server/throttle.py on a hand-driven clock: windows, limits, per user and per address."""

from __future__ import annotations

import pytest

from hydratrack.server.throttle import LoginThrottle, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_blocks_after_limit_failures_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    t = Throttle(3, 60.0, clock)
    for _ in range(2):
        t.failed("bob")
        clock.now += 10
    assert t.retry_after("bob") == 0
    t.failed("bob")  # failures at 1000, 1010, 1020
    assert t.retry_after("bob") == pytest.approx(40.0)  # 1000 + 60 - 1020
    clock.now = 1059.9
    assert t.retry_after("bob") > 0
    clock.now = 1060.0
    assert t.retry_after("bob") == 0  # the first failure left the window
    assert t.retry_after("alice") == 0


def test_the_wait_ends_when_fewer_than_limit_failures_are_left_in_the_window() -> None:
    clock = Clock()
    t = Throttle(2, 100.0, clock)
    t.failed("k")
    t.failed("k")
    clock.now += 50
    t.failed("k")  # 1000, 1000, 1050: at 1100 only one is left
    assert t.retry_after("k") == pytest.approx(50.0)
    clock.now = 1100.0
    assert t.retry_after("k") == 0


def test_forget_clears_a_key_and_old_failures_expire() -> None:
    clock = Clock()
    t = Throttle(1, 5.0, clock)
    t.failed("k")
    assert t.retry_after("k") > 0
    t.forget("k")
    assert t.retry_after("k") == 0
    t.failed("k")
    clock.now += 5.0
    assert t.retry_after("k") == 0


def test_key_flood_does_not_grow_without_bound() -> None:
    t = Throttle(1, 60.0, Clock(), max_keys=100)
    for i in range(1000):
        t.failed(f"user{i}")
    assert len(t._failures) <= 100


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        Throttle(0, 1.0)
    with pytest.raises(ValueError):
        Throttle(1, 0.0)


def test_login_throttle_counts_user_and_address_apart() -> None:
    clock = Clock()
    t = LoginThrottle(limit=3, window=60.0, clock=clock)
    for _ in range(3):
        t.failed("admin", "10.0.0.1")
    assert t.retry_after("admin", "10.0.0.2") == 60  # the user is blocked from anywhere
    assert t.retry_after("bob", "10.0.0.1") == 0  # the address is not blocked yet
    for i in range(30):  # one guess each for many users from one address
        t.failed(f"user{i}", "10.0.0.9")
    assert t.retry_after("someone-new", "10.0.0.9") > 0  # 30 = 3 * 10 per address
    assert t.retry_after("someone-new", "10.0.0.8") == 0


def test_success_forgets_the_user_but_not_the_address() -> None:
    clock = Clock()
    t = LoginThrottle(limit=2, window=60.0, clock=clock)
    t.failed("admin", "a")
    t.succeeded("admin")
    t.failed("admin", "a")
    assert t.retry_after("admin", None) == 0
    assert len(t.addresses._failures["a"]) == 2


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    clock = Clock()
    t = LoginThrottle(limit=1, window=10.0, clock=clock)
    t.failed("u", None)
    clock.now += 9.99
    assert t.retry_after("u", None) == 1
    assert t.retry_after(None, None) == 0


def test_a_proof_that_succeeded_is_never_blocked() -> None:
    t = LoginThrottle(limit=1, window=60.0, clock=Clock())
    t.succeeded("KEY", proof="good")
    t.failed("KEY", "a")
    assert t.retry_after("KEY", "a") > 0
    assert t.retry_after("KEY", "a", proof="guess") > 0
    assert t.retry_after("KEY", "a", proof="good") == 0

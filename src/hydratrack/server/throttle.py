"""Failed-credential throttling: too many recent failures for a key, then wait.

:class:`Throttle` counts failures per key (a user name, an access key, a client address)
in a sliding window; a key with ``limit`` failures inside the last ``window`` seconds is
blocked until the oldest of them leaves the window. The structure is pure: time comes
from the ``clock`` it is given, so tests drive it without sleeping.

:class:`LoginThrottle` is what the server uses: one throttle per user (name or access
key) and a more generous one per client address, so a guesser is slowed whether it tries
many passwords for one user or one password for many users.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import Callable, Deque, Iterable

Clock = Callable[[], float]


class Throttle:
    """At most ``limit`` failures per key within ``window`` seconds; then blocked."""

    def __init__(
        self, limit: int, window: float, clock: Clock = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a throttle needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, Deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> Deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if times is None or len(times) < self.limit:
                return 0.0
            return times[-self.limit] + self.window - now

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if times is None:
                if len(self._failures) >= self.max_keys:  # a flood of keys: start afresh
                    self._failures.clear()
                times = self._failures[key] = collections.deque()
            times.append(now)
            while len(times) > self.limit:
                times.popleft()

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginThrottle:
    """Failed logins and Basic secrets, counted per user and per client address.

    ``limit`` failures per user (a user name or an access key) within ``window`` seconds,
    ``limit * ADDRESS_FACTOR`` per client address. A success forgets the user's failures
    (not the address's: one good account must not unlock guessing at others)."""

    ADDRESS_FACTOR = 10
    MAX_PROVEN = 10_000

    def __init__(self, limit: int = 10, window: float = 300.0, clock: Clock = time.monotonic):
        self.users = Throttle(limit, window, clock)
        self.addresses = Throttle(limit * self.ADDRESS_FACTOR, window, clock)
        self._proven: set[str] = set()

    def retry_after(self, user: str | None, address: str | None, proof: str | None = None) -> int:
        """Whole seconds to wait (at least 1) when blocked, else 0.

        ``proof`` (a digest of a random secret, never of a password) that already
        succeeded is never blocked: presenting it is no guess, and a misconfigured client
        next to a working one must not lock the working one out."""
        if proof is not None and proof in self._proven:
            return 0
        waits: Iterable[float] = (
            *((self.users.retry_after(user),) if user else ()),
            *((self.addresses.retry_after(address),) if address else ()),
        )
        wait = max(waits, default=0.0)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, user: str | None, address: str | None) -> None:
        if user:
            self.users.failed(user)
        if address:
            self.addresses.failed(address)

    def succeeded(self, user: str | None, proof: str | None = None) -> None:
        if user:
            self.users.forget(user)
        if proof is not None:
            if len(self._proven) >= self.MAX_PROVEN:
                self._proven.clear()
            self._proven.add(proof)

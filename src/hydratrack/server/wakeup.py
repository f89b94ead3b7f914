"""Wakes long-polling claims when a task is enqueued in this process.

``notify()`` may be called from any thread (sync routes run in a thread pool); waiters
live on the event loop. Claims also re-check the database every half second, which
covers enqueues made through other server processes.
"""

from __future__ import annotations

import asyncio
import contextlib


class WakeUp:
    def __init__(self) -> None:
        self.generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        self.generation += 1
        old, self._event = self._event, asyncio.Event()
        if old is not None:
            old.set()

    async def wait(self, seen_generation: int, timeout: float) -> None:
        """Return on a notify after ``seen_generation`` was read, or after ``timeout``."""
        if self.generation != seen_generation:
            return
        if self._event is None:  # not bound to a loop (no lifespan): plain polling
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

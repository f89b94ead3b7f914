"""Streaming a child's console to the server as console events, line by line.

Reader threads put lines into a buffer; a sender thread posts what is buffered every
``interval`` seconds (so lines show within about a second). Each batch carries a batch id
made once, so a retried post after a network error is stored once. While the server cannot
be reached (or answers 5xx) lines are kept and retried, also after :meth:`close`, until
its timeout; a batch the server refuses (4xx) is dropped with a warning. Lines are also
echoed to a local stream (the agent's log, or the terminal for ``hydratrack rerun``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import IO, Any, Callable

from hydratrack.agent import retry
from hydratrack.client import ApiClient, ApiError

log = logging.getLogger("hydratrack.agent")
MAX_BATCH = 500
MAX_LINE = 64 * 1024
TAIL_LINES = 60  # stderr lines kept for the failure reason (a full Hydra traceback fits)
MAX_BUFFERED = 200_000  # lines kept while the server is away; beyond, the oldest go


class ConsoleStream:
    def __init__(
        self,
        api: ApiClient,
        task_id: str,
        *,
        interval: float = 0.3,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        self.api, self.task_id, self.interval, self.echo = api, task_id, interval, echo
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._pending: tuple[str, list[dict[str, Any]]] | None = None
        self._give_up_at = float("inf")  # set by close()
        self._readers: list[threading.Thread] = []
        self._sender = threading.Thread(
            target=self._send_loop, daemon=True, name="hydratrack-console"
        )
        self._sender.start()
        self.tail: list[str] = []  # last lines of the child's stderr, for the failure reason
        self.dropped = 0  # lines dropped while more than MAX_BUFFERED waited for the server

    def line(self, stream: str, text: str, *, own: bool = False) -> None:
        """Queue one line (``text`` ends with a newline); ``own``: the agent's, not the child's."""
        if len(text) > MAX_LINE + 1:  # one line of MAX_LINE characters and its newline
            text = text[:MAX_LINE] + "…[line cut]\n"
        if self.echo is not None:
            self.echo(stream, text)
        if stream == "stderr" and text.strip() and not own:
            self.tail = (self.tail + [text.rstrip()])[-TAIL_LINES:]
        with self._lock:
            self._lines.append(
                {"type": "console", "stream": stream, "text": text, "ts": time.time()}
            )
            if len(self._lines) > MAX_BUFFERED:  # drop a tenth at once: not a copy per line
                cut = len(self._lines) - MAX_BUFFERED * 9 // 10
                del self._lines[:cut]
                if not self.dropped:
                    log.warning(
                        "console of task %s: server away, oldest lines dropped", self.task_id
                    )
                self.dropped += cut

    def note(self, text: str) -> None:
        """A line from the agent itself (on stderr, marked as the agent's)."""
        self.line("stderr", f"[hydratrack agent] {text}\n", own=True)

    def follow(self, pipe: IO[bytes], stream: str) -> None:
        """Read ``pipe`` in a thread until it closes, one console line per text line.

        A line rewritten with carriage returns (progress bars) is stored as a terminal
        shows it at its end: the text after the last ``\\r``.
        """

        def read() -> None:
            pending = b""
            while True:
                chunk = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    self._split_line(stream, _visible(raw))
                if len(pending) > MAX_LINE and b"\r" in pending:
                    pending = pending.rsplit(b"\r", 1)[1]
                while len(pending) > MAX_LINE:  # a very long line: split, lose nothing
                    self._split_line(stream, _visible(pending[:MAX_LINE]))
                    pending = pending[MAX_LINE:]
            if pending:
                self._split_line(stream, _visible(pending))
            pipe.close()

        thread = threading.Thread(target=read, daemon=True, name=f"hydratrack-{stream}")
        thread.start()
        self._readers.append(thread)

    def _split_line(self, stream: str, text: str) -> None:
        for start in range(0, max(len(text), 1), MAX_LINE):
            self.line(stream, text[start : start + MAX_LINE] + "\n")

    def close(self, timeout: float = 10.0) -> None:
        """Wait for the pipes to end and send everything left, retrying a server that
        cannot be reached for up to ``timeout`` seconds."""
        for thread in self._readers:
            thread.join(timeout)
        self._give_up_at = time.monotonic() + timeout
        self._closed.set()
        self._wake.set()
        self._sender.join(timeout + 5.0)

    def _take(self) -> tuple[str, list[dict[str, Any]]] | None:
        if self._pending is not None:
            return self._pending
        with self._lock:
            if not self._lines:
                return None
            batch, self._lines = self._lines[:MAX_BATCH], self._lines[MAX_BATCH:]
        self._pending = (uuid.uuid4().hex, batch)
        return self._pending

    def _send_loop(self) -> None:
        failures = 0
        while True:
            closing = self._closed.is_set()
            item = self._take()
            if item is not None:
                try:
                    self.api.post_events(self.task_id, item[0], item[1])
                    self._pending, failures = None, 0
                    continue
                except ApiError as exc:
                    failures += 1
                    if not retry.transient(exc):  # refused: sending it again will not help
                        self._drop(item[1], exc.message)
                        continue
                    if closing and time.monotonic() > self._give_up_at:
                        with self._lock:
                            left, self._lines = item[1] + self._lines, []
                        self._drop(left, exc.message)
                        return
            elif closing:
                if self.dropped:
                    log.warning(
                        "console of task %s: %d lines not stored: dropped while the server "
                        "was away (over %d waiting)",
                        self.task_id,
                        self.dropped,
                        MAX_BUFFERED,
                    )
                return
            self._wake.wait(self.interval if failures == 0 else retry.delay(failures))
            self._wake.clear()

    def _drop(self, lines: list[dict[str, Any]], why: str) -> None:
        log.warning("console of task %s: %d lines not stored: %s", self.task_id, len(lines), why)
        self._pending = None


def _visible(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    return text.rsplit("\r", 1)[-1]

"""Console capture: tee ``sys.stdout``/``sys.stderr`` into console events.

Text still reaches the terminal unchanged and at once; complete lines are appended to the
sender's event deque (a partial line waits for its newline, or for :meth:`Tee.flush_tail`
at the end of the run). Logging handlers that already write to the original streams (Hydra
sets some up before the job starts) are pointed at the tee so their lines are kept too.
"""

from __future__ import annotations

import collections
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b.*")
_TRACEBACK = "Traceback (most recent call last):"
_HYDRA_HINT = "Set the environment variable HYDRA_FULL_ERROR=1"


def error_line(lines: Iterable[str]) -> str:
    """The real error in the last lines a failed process wrote to stderr: the exception line
    of the last traceback (``ValueError: bad value``), else the last ``SomeError: ...``
    line, else the last line; never Hydra's ``HYDRA_FULL_ERROR`` hint. Shared by the SDK
    (local runs) and the agent (remote runs), so both record the same reason."""
    kept = [ln.rstrip() for ln in lines if ln.strip() and not ln.strip().startswith(_HYDRA_HINT)]
    starts = [i for i, ln in enumerate(kept) if ln.strip() == _TRACEBACK]
    if starts:
        for line in kept[starts[-1] + 1 :]:
            if not line[:1].isspace():
                return line.strip()[:500]
    for line in reversed(kept):
        if _EXC_LINE.match(line.strip()):
            return line.strip()[:500]
    return kept[-1].strip()[:500] if kept else ""


class Tee:
    """A text stream that writes through to ``target`` and reports lines.

    ``owner`` (a multirun job's): a cheap test that the job is still running; once it says
    no, the tee stops reporting, so what Hydra prints between jobs (``#1 : lr=0.2``) is
    not put in the console of the job that ended."""

    def __init__(
        self,
        target: TextIO,
        stream: str,
        append: Callable[[tuple[Any, ...]], None],
        owner: Callable[[], bool] | None = None,
    ) -> None:
        self._target = target
        self._stream = stream
        self._append = append
        self._owner = owner
        self._tail = ""
        self.enabled = True
        self.recent: collections.deque[str] = collections.deque(maxlen=50)

    def write(self, s: str) -> int:
        n = self._target.write(s)
        if self.enabled and s and self._owner is not None and not self._owner():
            self.flush_tail()  # the job's own last partial line
            self.enabled = False
        if self.enabled and s:
            text = self._tail + s
            cut = text.rfind("\n") + 1
            if cut:
                chunk = text[:cut]
                self._append(("console", self._stream, chunk, time.time()))
                self._tail = text[cut:]
                if self._stream == "stderr":
                    self.recent.extend(chunk.splitlines())
            else:
                self._tail = text
                if len(text) > 65536:  # a very long line without newline: ship it anyway
                    self.flush_tail()
        return n

    def error_line(self) -> str:
        """The real error among the last stderr lines (:func:`error_line`), for a status."""
        return error_line(self.recent)

    def flush_tail(self) -> None:
        if self._tail:
            self._append(("console", self._stream, self._tail, time.time()))
            self._tail = ""

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._target.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer, ...
        return getattr(self._target, name)


class ConsoleCapture:
    """Installs and removes the two tees."""

    def __init__(
        self, append: Callable[[tuple[Any, ...]], None], owner: Callable[[], bool] | None = None
    ) -> None:
        self._append = append
        self._owner = owner
        self.out: Tee | None = None
        self.err: Tee | None = None
        self._moved: list[tuple[logging.StreamHandler[Any], Any]] = []

    def install(self) -> None:
        orig_out, orig_err = sys.stdout, sys.stderr
        self.out = Tee(orig_out, "stdout", self._append, self._owner)
        self.err = Tee(orig_err, "stderr", self._append, self._owner)
        sys.stdout, sys.stderr = self.out, self.err
        for handler in _stream_handlers():
            stream = handler.stream
            # (a tee of a previous multirun job: Hydra made this job's handlers on it)
            if stream is orig_out or _ended_tee(stream, "stdout"):
                self._moved.append((handler, orig_out))
                handler.setStream(self.out)
            elif stream is orig_err or _ended_tee(stream, "stderr"):
                self._moved.append((handler, orig_err))
                handler.setStream(self.err)

    def finish(self) -> None:
        """Ship partial lines and stop reporting (the tees stay, writing through)."""
        for tee in (self.out, self.err):
            if tee is not None:
                tee.flush_tail()
                tee.enabled = False
        if sys.stdout is self.out and self.out is not None:
            sys.stdout = self.out._target
        if sys.stderr is self.err and self.err is not None:
            sys.stderr = self.err._target
        for handler, stream in self._moved:
            if handler.stream in (self.out, self.err):
                handler.setStream(stream)
        self._moved.clear()


def _ended_tee(stream: Any, name: str) -> bool:
    return isinstance(stream, Tee) and stream._stream == name and not stream.enabled


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    loggers: list[Any] = [logging.getLogger()]
    loggers += [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    out = []
    for lg in loggers:
        for h in lg.handlers:
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                out.append(h)
    return out

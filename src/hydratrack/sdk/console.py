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
from collections.abc import Callable
from typing import Any, TextIO

_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b.*")


class Tee:
    """A text stream that writes through to ``target`` and reports lines."""

    def __init__(
        self, target: TextIO, stream: str, append: Callable[[tuple[Any, ...]], None]
    ) -> None:
        self._target = target
        self._stream = stream
        self._append = append
        self._tail = ""
        self.enabled = True
        self.recent: collections.deque[str] = collections.deque(maxlen=50)

    def write(self, s: str) -> int:
        n = self._target.write(s)
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
        """The last ``SomeError: message`` line written (else the last line), for a status."""
        lines = [ln.strip() for ln in self.recent if ln.strip()]
        for line in reversed(lines):
            if _EXC_LINE.match(line):
                return line[:500]
        return lines[-1][:500] if lines else ""

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

    def __init__(self, append: Callable[[tuple[Any, ...]], None]) -> None:
        self._append = append
        self.out: Tee | None = None
        self.err: Tee | None = None
        self._moved: list[tuple[logging.StreamHandler[Any], Any]] = []

    def install(self) -> None:
        orig_out, orig_err = sys.stdout, sys.stderr
        self.out = Tee(orig_out, "stdout", self._append)
        self.err = Tee(orig_err, "stderr", self._append)
        sys.stdout, sys.stderr = self.out, self.err
        for handler in _stream_handlers():
            if handler.stream is orig_out:
                self._moved.append((handler, orig_out))
                handler.setStream(self.out)
            elif handler.stream is orig_err:
                self._moved.append((handler, orig_err))
                handler.setStream(self.err)

    def retarget_handlers(self) -> None:
        """Point handlers created since install (e.g. by Hydra) at the tees."""
        if self.out is None or self.err is None:
            return
        for handler in _stream_handlers():
            if handler.stream is self.out._target:
                self._moved.append((handler, handler.stream))
                handler.setStream(self.out)
            elif handler.stream is self.err._target:
                self._moved.append((handler, handler.stream))
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

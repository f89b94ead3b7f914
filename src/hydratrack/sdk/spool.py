"""The on-disk spool: ops of offline runs (or runs whose server was down) wait here.

Layout: ``<root>/<task id>/ops.jsonl`` (one op per line, in order), ``artifacts/`` (copies
of files to upload), ``sent`` (how many ops of ``ops.jsonl`` were delivered: the sync
cursor) and ``active`` (pid of a run still writing; sync leaves such a directory alone).
The root is ``$HYDRATRACK_SPOOL_DIR`` or ``~/.hydratrack/spool``.

Replaying is exactly-once in effect: the cursor advances after each delivered op, and an
op delivered twice (a crash between delivery and cursor write) is a no-op on the server
(same task id, same batch id, PUT semantics).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from hydratrack.names import SPOOL_DIR_ENV
from hydratrack.sdk.transport import (
    Op,
    Rejected,
    Transport,
    Unauthorized,
    Unavailable,
    describe,
    split_batch,
)


def spool_root() -> Path:
    override = os.environ.get(SPOOL_DIR_ENV)
    return Path(override) if override else Path.home() / ".hydratrack" / "spool"


class SpoolTransport:
    """A transport that appends ops to the spool (never raises for a reachable disk)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or spool_root()
        self._lock = threading.Lock()
        self.count = 0
        self.task_dirs: set[Path] = set()

    def task_dir(self, task_id: str) -> Path:
        return self.root / task_id

    def mark_active(self, task_id: str) -> None:
        d = self.task_dir(task_id)
        d.mkdir(parents=True, exist_ok=True)
        (d / "active").write_text(str(os.getpid()))

    def mark_done(self, task_id: str) -> None:
        d = self.task_dir(task_id)
        try:
            (d / "active").unlink()
        except FileNotFoundError:
            pass
        try:
            d.rmdir()  # a run that spooled nothing leaves nothing behind
        except OSError:
            pass

    def send(self, op: Op) -> None:
        d = self.task_dir(op["task_id"])
        with self._lock:
            d.mkdir(parents=True, exist_ok=True)
            if op["op"] == "artifact":
                src = Path(op["path"])
                if src.parent != d / "artifacts":
                    dst = d / "artifacts" / f"{uuid.uuid4().hex}-{src.name}"
                    dst.parent.mkdir(exist_ok=True)
                    shutil.copyfile(src, dst)
                    op = {**op, "path": str(dst)}
            line = json.dumps(op, ensure_ascii=False, allow_nan=True)
            with open(d / "ops.jsonl", "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            self.count += 1
            self.task_dirs.add(d)

    def close(self) -> None:
        pass


class SpooledTask(NamedTuple):
    """One task directory of the spool."""

    path: Path

    @property
    def task_id(self) -> str:
        return self.path.name

    def ops(self) -> list[Op]:
        try:
            lines = (self.path / "ops.jsonl").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                # a torn last line (the run was killed mid-write) is skipped, nothing else
                if n != len(lines):
                    raise ValueError(f"{self.path / 'ops.jsonl'}:{n}: not valid JSON") from None
        return out

    @property
    def sent(self) -> int:
        try:
            return int((self.path / "sent").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def set_sent(self, n: int) -> None:
        tmp = self.path / "sent.tmp"
        tmp.write_text(str(n))
        os.replace(tmp, self.path / "sent")

    def active_pid(self) -> int | None:
        """The pid of a live run still writing here, else None."""
        try:
            pid = int((self.path / "active").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if pid == os.getpid():
            return pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def pending(self) -> int:
        return max(0, len(self.ops()) - self.sent)


def spooled_tasks(root: Path | None = None) -> Iterator[SpooledTask]:
    root = root or spool_root()
    if not root.is_dir():
        return
    for d in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime):
        if d.is_dir() and (d / "ops.jsonl").exists():
            yield SpooledTask(d)


class ReplayResult:
    """What one replay did (a plain class: this module is imported by every run)."""

    def __init__(self) -> None:
        self.delivered = 0
        self.rejected: list[str] = []
        self.finished = False

    def __repr__(self) -> str:
        return (
            f"ReplayResult(delivered={self.delivered}, rejected={self.rejected!r}, "
            f"finished={self.finished})"
        )


def replay(
    task: SpooledTask, transport: Transport, on_op: Callable[[Op], None] | None = None
) -> ReplayResult:
    """Deliver the not-yet-sent ops of one spooled task, advancing the cursor after each.

    :class:`Unavailable` and :class:`Unauthorized` propagate (the cursor keeps its place).
    An events batch the server finds too large (413: a server with a smaller body limit than
    the one the run wrote for) is sent in halves until they fit. Any other
    :class:`Rejected` op is recorded in ``rejected.jsonl`` with the server's message and
    skipped. When every op is delivered the directory is removed.
    """
    result = ReplayResult()
    ops = task.ops()
    start = task.sent
    for i in range(start, len(ops)):
        op = ops[i]
        try:
            _send_fitting(transport, op)
            result.delivered += 1
        except Rejected as exc:
            msg = f"task {task.task_id}: {describe(op)} refused: {exc}"
            result.rejected.append(msg)
            with open(task.path / "rejected.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"op": op, "error": str(exc)}) + "\n")
        except (Unavailable, Unauthorized):
            raise
        task.set_sent(i + 1)
        if on_op:
            on_op(op)
    result.finished = True
    if not result.rejected:
        shutil.rmtree(task.path, ignore_errors=True)
    return result


def _send_fitting(transport: Transport, op: Op) -> None:
    """Send ``op``; an events batch answered 413 goes again as halves (deterministic batch
    ids, so a sync interrupted half-way and run again stores nothing twice)."""
    try:
        transport.send(op)
    except Rejected as exc:
        halves = (
            split_batch(op)
            if op.get("op") == "events" and exc.code == "payload_too_large"
            else None
        )
        if not halves:
            raise
        for half in halves:
            _send_fitting(transport, half)

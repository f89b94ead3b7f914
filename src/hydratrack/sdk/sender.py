"""The background sender: batches events, delivers ops, retries, falls back to the spool.

The calling thread only appends to deques (``report_scalar`` costs one tuple and one
``deque.append``). One daemon thread wakes every ``interval`` seconds (or when asked),
delivers queued ops in order, then drains events into batches of at most ``max_batch``
events (50k: a ~2.4 MB body), each with its own batch id (kept across retries, so the
server stores it once). In a batch the points of each series travel as one columnar
``scalars`` event (``batch_events``), which the server stores without an object per point.

Order: :func:`next_op` (a pure planning step, tested without threads) decides what goes
next, for the server and the spool alike: a final status only after every event reported
before it. The thread takes ops and events only under ``_lock``; when the exit deadline
passes, ``close()`` takes everything left (the request in flight included) under that lock
and spools it, and the thread, once its request returns, touches nothing any more.

Faults: an unreachable server (or any unforeseen error while sending) is retried with
exponential backoff for ``retry_window`` seconds, then the sender switches to the spool
for the rest of the run. Rejected credentials switch to the spool at once with one
warning line. An op the server refuses (4xx) is reported in one warning line naming it;
the run goes on. Nothing is dropped otherwise (docs/sdk.md, "the delivery contract").
"""

from __future__ import annotations

import collections
import math
import operator
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from hydratrack.sdk.spool import SpoolTransport
from hydratrack.sdk.transport import (
    Op,
    Rejected,
    Transport,
    Unauthorized,
    Unavailable,
    describe,
    split_batch,
)

EventTuple = tuple[Any, ...]
# fields that POST /tasks and PATCH /tasks/{id} both take (an update can ride in a create)
FOLDABLE_FIELDS = frozenset({"name", "comment", "tags", "script", "runtime"})
# hydratrack.status.RUN_OUTCOME_VALUES, written out: that enum module costs ~1 ms to import
# on a short run's exit path (tests/unit/test_sdk_transport.py keeps the two equal)
FINAL_STATUSES = frozenset({"completed", "failed", "stopped"})
# A create about to be sent while the run is exiting waits this long for the final status
# (which close() puts right after the script facts), so that both go in one request.
FINAL_WAIT_SECONDS = 0.05
DONE, RETRY, SPOOL = "done", "retry", "spool"  # what became of one delivery
# At the exit deadline, how long close() still waits for the startup ops (local work: the
# script facts and the Hydra capture), so that the spool starts with the create.
STARTUP_WAIT_SECONDS = 5.0


def event_dict(ev: EventTuple) -> dict[str, Any]:
    """Turn a compact event tuple (made on the hot path) into the API's event object."""
    kind = ev[0]
    if kind == "scalar":
        _, metric, variant, it, value, ts = ev
        return {
            "type": "scalar",
            "metric": metric,
            "variant": variant,
            "iter": it,
            "value": _as_json_number(value),
            "ts": ts,
        }
    if kind == "console":
        _, stream, text, ts = ev
        return {"type": "console", "stream": stream, "text": text, "ts": ts}
    _, title, text, it, ts = ev
    return {"type": "text", "title": title, "text": text, "iter": it, "ts": ts}


def _as_json_number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


_KIND, _SERIES = operator.itemgetter(0), operator.itemgetter(1, 2)
_COLUMN = {k: operator.itemgetter(k) for k in (3, 4, 5)}


def batch_events(events: collections.deque[EventTuple], max_points: int) -> list[dict[str, Any]]:
    """Events for one batch, taken from the left of ``events`` (at most ``max_points``):
    the scalar points of each (metric, variant) as one columnar ``scalars`` event
    (parallel arrays, times as integer microseconds: no object per point, cheap JSON),
    after the other events, which keep their order."""
    pop = events.popleft
    chunk = [pop() for _ in range(min(len(events), max_points))]  # only we take from it
    if not chunk:
        return []
    if set(map(_KIND, chunk)) == {"scalar"} and len(set(map(_SERIES, chunk))) == 1:
        # the common case, points of one series only: columns without a Python loop
        return [
            _scalars(chunk[0][1], chunk[0][2], *[list(map(_COLUMN[k], chunk)) for k in (3, 4, 5)])
        ]
    others: list[dict[str, Any]] = []
    series: dict[tuple[str, str], tuple[list[Any], list[Any], list[Any]]] = {}
    for ev in chunk:
        if ev[0] != "scalar":
            others.append(event_dict(ev))
            continue
        group = series.get(ev[1:3])
        if group is None:
            group = series[ev[1:3]] = ([], [], [])
        group[0].append(ev[3])
        group[1].append(ev[4])
        group[2].append(ev[5])
    others += [_scalars(m, v, *group) for (m, v), group in series.items()]
    return others


def _scalars(
    metric: str, variant: str, iters: list[Any], values: list[Any], ts: list[Any]
) -> dict[str, Any]:
    if not math.isfinite(sum(values)):  # rare: look at each value only then
        values = [_as_json_number(v) for v in values]
    return {
        "type": "scalars",
        "metric": metric,
        "variant": variant,
        "iters": iters,
        "values": values,
        "ts_us": [int(t * 1e6) for t in ts],
    }


def events_op(task_id: str, events: list[dict[str, Any]]) -> Op:
    """One batch of events (a fresh batch id, kept across retries)."""
    return {"op": "events", "task_id": task_id, "batch_id": uuid.uuid4().hex, "events": events}


def next_op(
    ops: collections.deque[Op],
    events: collections.deque[EventTuple],
    task_id: str,
    max_batch: int,
) -> Op | None:
    """The planning step: what to deliver next, taken from the queues (None: nothing).

    The op at the head of ``ops``, unless it must land after every event reported before
    it (``after_events``: the final status) and events wait: then a batch of those. With
    no op waiting, a batch of events. The one place that decides the order of a run's
    requests, for the live sender and for the spool alike."""
    if ops and not (ops[0].get("after_events") and events):
        return ops.popleft()
    if events:
        return events_op(task_id, batch_events(events, max_batch))
    return None


def unfold_final(op: Op) -> list[Op]:
    """A create that carries a final status as the two ops it stands for (else ``[op]``)."""
    body = op.get("body") or {}
    if op.get("op") != "create_task" or body.get("status") not in FINAL_STATUSES:
        return [op]
    rest = {k: v for k, v in body.items() if k not in ("status", "status_message", "status_reason")}
    return [
        {**op, "body": {**rest, "status": "in_progress"}},
        {
            "op": "status",
            "task_id": op["task_id"],
            "status": body["status"],
            "message": body.get("status_message", ""),
            "reason": body.get("status_reason", ""),
            **({"ended": op["ended"]} if "ended" in op else {}),
        },
    ]


def warn(message: str) -> None:
    """One warning line on the real stderr (never through our console tee)."""
    notice(f"warning: {message}")


def notice(message: str) -> None:
    """One line on the real stderr (never through our console tee)."""
    stream = sys.__stderr__ or sys.stderr
    try:
        stream.write(f"hydratrack: {message}\n")
        stream.flush()
    except Exception:  # noqa: BLE001, S110 - a closed stderr must not break the run
        pass


class Sender:
    def __init__(
        self,
        task_id: str,
        make_transport: Callable[[], Transport],
        make_spool: Callable[[], Transport],
        *,
        interval: float = 0.5,
        max_batch: int = 50_000,
        retry_window: float = 20.0,
        startup: Callable[[], list[Op]] | None = None,
        hold: bool = False,
    ) -> None:
        self.task_id = task_id
        self.events: collections.deque[EventTuple] = collections.deque()
        self.ops: collections.deque[Op] = collections.deque()
        self._make_transport = make_transport
        self._make_spool = make_spool
        self._startup = startup
        self.hold = hold  # deliver nothing until release() (the task is not created yet)
        self.interval = interval
        self.max_batch = max_batch
        self.retry_window = retry_window
        self.transport: Transport | None = None
        self.spool: Transport | None = None
        self.spooling = False
        self.warnings: list[str] = []
        self._inflight: Op | None = None
        # guards the queues' ownership: the sender thread takes ops and events under it, and
        # close() takes them all under it when the exit deadline passes (then the thread,
        # which may still be waiting on a request, touches nothing any more)
        self._lock = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._abandoned = False
        self._started = threading.Event()  # the startup ops are queued (or failed)
        self._first_failure: float | None = None
        self._backoff = 0.25
        # a final status may ride in the create; never into the spool (an offline run's
        # transport is the spool): there the status keeps the run's end time (``ended``),
        # which a create replayed by `hydratrack sync` would replace by the time of the sync
        self.fold_final = True
        self.final_queued = threading.Event()  # a status op has been put
        self.exiting = threading.Event()  # the run's close() has begun
        self._offline_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="hydratrack-sender", daemon=True)

    # -- called from the user's threads ------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def put(self, op: Op, after_events: bool = False) -> None:
        """Queue an op; ``after_events``: deliver it after every event reported so far."""
        op.setdefault("task_id", self.task_id)
        if after_events:
            op["after_events"] = True
        self.ops.append(op)  # (no lock: an append at the tail never races the head's owner)
        if op.get("op") == "status":
            self.final_queued.set()
        self._wake.set()

    def release(self, first: list[Op]) -> None:
        """Put ``first`` at the head of the line and start delivering."""
        with self._lock:
            for op in reversed(first):
                op.setdefault("task_id", self.task_id)
                self.ops.appendleft(op)
            self.hold = False
        self._wake.set()

    def discard(self) -> None:
        """Forget everything queued (a run that turned out not to be a run)."""
        with self._lock:
            self.ops.clear()
            self.events.clear()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is delivered (or spooled). Judged under the
        lock the sender takes ops under, so an event reported just before counts."""
        self._wake.set()
        with self._lock:
            return self._lock.wait_for(self._settled, timeout)

    def _settled(self) -> bool:
        if not self._thread.is_alive() and self._thread.ident is not None:
            return True
        return self.hold or (not self.ops and not self.events and self._inflight is None)

    def close(self, timeout: float = 2.0) -> None:
        """Deliver what is left within ``timeout`` s; spool whatever did not make it."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            # the startup ops (the create) are local work: wait for them, else they would be
            # missing from the spool
            self._started.wait(STARTUP_WAIT_SECONDS)
            with self._lock:
                self._abandoned = True
                leftovers: list[Op] = [self._inflight] if self._inflight else []
                self._inflight = None
                while (
                    op := next_op(self.ops, self.events, self.task_id, self.max_batch)
                ) is not None:
                    leftovers.append(op)
                self._lock.notify_all()
            self._go_offline(
                "the server did not take everything before the exit deadline "
                "(HYDRATRACK_EXIT_TIMEOUT, default 2 s)"
            )
            for op in leftovers:  # the in-flight one may also reach the server: harmless
                self._to_spool(op)
        if self.transport is not None and not self._abandoned:  # else still in use there
            try:
                self.transport.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection
                pass

    # -- the thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.transport = self._make_transport()
            if isinstance(self.transport, SpoolTransport):  # an offline run
                self.fold_final = False
        except Exception as exc:  # noqa: BLE001 - e.g. a broken config file
            self._go_offline(f"cannot set up the connection ({exc})")
        try:
            if self._startup is not None:
                try:
                    first = self._startup()
                except Exception as exc:  # noqa: BLE001 - capture bugs must not kill the run
                    warn(f"capture failed: {type(exc).__name__}: {exc}")
                    first = []
                with self._lock:
                    for op in reversed(first):
                        op.setdefault("task_id", self.task_id)
                        self.ops.appendleft(op)
        finally:
            self._started.set()
        try:
            while True:
                stopping = self._stop.is_set()
                if not self.hold:
                    self._pump(stopping)
                with self._lock:
                    idle = self.hold or (not self.ops and not self.events)
                    if idle:
                        self._lock.notify_all()
                    if self._abandoned or (stopping and idle):
                        break
                self._wake.wait(self.interval)
                self._wake.clear()
        finally:
            with self._lock:
                self._lock.notify_all()

    def _pump(self, stopping: bool) -> None:
        while True:
            if (
                self.exiting.is_set()
                and self.fold_final
                and not self.final_queued.is_set()
                and self.ops
                and self.ops[0].get("op") == "create_task"
            ):
                self.final_queued.wait(FINAL_WAIT_SECONDS)  # see FINAL_WAIT_SECONDS
            with self._lock:
                if self._abandoned or self.hold:
                    return
                op = next_op(self.ops, self.events, self.task_id, self.max_batch)
                if op is None:
                    return
                self._inflight = op = self._fold_updates(op)
                if self.spooling:  # a local write: done under the lock (close() waits)
                    self._to_spool(op)
                    self._inflight = None
                    self._lock.notify_all()
                    continue
            outcome = self._deliver(op, stopping)
            with self._lock:
                if self._abandoned:
                    return  # close() has spooled it
                if outcome == RETRY:
                    self.ops.appendleft(op)  # first in line again; same batch id on retry
                elif outcome == SPOOL:
                    self._to_spool(op)
                self._inflight = None
                self._lock.notify_all()
            if outcome == RETRY:
                return

    def _fold_updates(self, op: Op) -> Op:
        """One request instead of several: ``update_task`` ops queued right behind a
        ``create_task`` (or another ``update_task``) of the same task ride along in it
        (later fields win, as they would have on the server). Typical at exit, where the
        script facts are ready by the time the connection is. A run that ended before its
        create was sent (and has no events left) is created already finished: its final
        ``status`` op rides in the create too (docs/api.md, ``POST /tasks``)."""
        kind = op.get("op")
        if kind not in ("create_task", "update_task"):
            return op
        key = "body" if kind == "create_task" else "fields"
        merged: dict[str, Any] | None = None
        while self.ops:
            nxt = self.ops[0]
            if (
                nxt.get("op") != "update_task"
                or nxt.get("task_id") != op.get("task_id")
                or nxt.get("after_events")
                or set(nxt["fields"]) - FOLDABLE_FIELDS
            ):
                break
            if merged is None:
                merged = dict(op[key])
            merged.update(self.ops.popleft()["fields"])
        if (
            kind == "create_task"
            and self.ops
            and self.ops[0].get("op") == "status"
            and self.ops[0].get("task_id") == op.get("task_id")
            and not self.events
            and self.fold_final
            and not self.spooling
            and op[key].get("status") == "in_progress"
        ):
            final = self.ops.popleft()
            merged = dict(op[key]) if merged is None else merged
            merged.update(
                status=final["status"],
                status_message=final.get("message", ""),
                status_reason=final.get("reason", ""),
            )
            if "ended" in final:
                op = {**op, "ended": final["ended"]}  # (back into the status if unfolded)
        return op if merged is None else {**op, key: merged}

    def _deliver(self, op: Op, stopping: bool) -> str:
        """What became of the op: DONE (delivered or refused), RETRY or SPOOL (the caller
        writes it, under the lock)."""
        if self.spooling or self.transport is None:
            return SPOOL
        try:
            self.transport.send(op)
            self._first_failure = None
            self._backoff = 0.25
            return DONE
        except Unauthorized as exc:
            self._go_offline(f"the server rejected the API credentials ({exc})")
            return SPOOL
        except Rejected as exc:
            self._on_rejected(op, exc)
            return DONE
        except Exception as exc:  # noqa: BLE001 - Unavailable, or anything unforeseen:
            # never drop the op: retry with backoff, then spool
            now = time.monotonic()
            self._first_failure = self._first_failure or now
            if stopping or now - self._first_failure > self.retry_window:
                why = str(exc) if isinstance(exc, Unavailable) else f"{type(exc).__name__}: {exc}"
                self._go_offline(f"server unreachable ({why})")
                return SPOOL
            self._stop.wait(self._backoff)
            self._backoff = min(8.0, self._backoff * 2)
            return RETRY

    def _on_rejected(self, op: Op, exc: Rejected) -> None:
        body = op.get("body") or {}
        if (
            op["op"] == "create_task"
            and body.get("hyperparams")
            and exc.code in ("invalid_edit", "validation_error")
        ):
            # keep the task and its config; send the sections alone so the refusal names them
            rest = {k: v for k, v in body.items() if k != "hyperparams"}
            follow = [
                {"op": "put_hyperparams", "task_id": op["task_id"], "section": s, "params": p}
                for s, p in body["hyperparams"].items()
            ]
            with self._lock:
                for f in reversed(follow):
                    self.ops.appendleft(f)
                self.ops.appendleft({**op, "body": rest})
            return
        if op["op"] == "events" and exc.code == "payload_too_large":
            halves = split_batch(op)
            if halves:  # a server with a smaller body limit: send it in two halves
                with self._lock:
                    self.ops.extendleft(reversed(halves))
                return
        details = f" {exc.details}" if exc.details else ""
        self._warn_once(f"server refused {describe(op)} of task {op['task_id']}: {exc}{details}")

    def _warn_once(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            warn(message)

    def _go_offline(self, reason: str) -> None:
        with self._offline_lock:
            if self.spooling:
                return
            self.spool = self._make_spool()
            self.spooling = True
        where = getattr(self.spool, "task_dir", None)
        place = f" to {where(self.task_id)}" if where else ""
        self._warn_once(
            f"{reason}; the run goes on offline, data is spooled{place}; "
            "upload it later with `hydratrack sync`"
        )

    def _to_spool(self, op: Op) -> None:
        assert self.spool is not None
        for one in unfold_final(op):  # the spool keeps them apart (see fold_final)
            try:
                self.spool.send(one)
            except Exception as exc:  # noqa: BLE001 - disk full etc.
                self._warn_once(f"cannot write to the spool ({exc}); {describe(one)} lost")

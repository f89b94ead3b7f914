"""How the SDK's writes reach a server: one small interface, three implementations.

Every write the SDK makes is an *op*: a JSON-able dict with ``"op"`` (its kind) and
``"task_id"``. A transport delivers one op at a time and either returns or raises one of
the errors below. Ops are idempotent on the server (client-made task ids, batch ids for
events, PUT/PATCH for the rest), so delivering an op twice is harmless.

- :class:`HttpTransport` sends ops to a server through :class:`hydratrack.client.ApiClient`.
- :class:`hydratrack.sdk.spool.SpoolTransport` appends ops to an on-disk spool that
  ``hydratrack sync`` uploads later.
- :class:`MockTransport` keeps ops in memory, for your own unit tests::

      from hydratrack import Task
      from hydratrack.sdk.transport import MockTransport

      mock = MockTransport()
      task = Task.init(project_name="p", task_name="t", transport=mock)
      task.get_logger().report_scalar("loss", "train", value=0.5, iteration=1)
      task.close()
      assert mock.scalars(task.id) == [("loss", "train", 1, 0.5)]

Op kinds: ``create_task`` (body), ``update_task`` (fields), ``put_hyperparams`` (section,
params, keep), ``patch_hyperparams`` (changes), ``put_configuration`` (name, value, type,
description), ``events`` (batch_id, events), ``artifact`` (name, path, metadata),
``status`` (status, message, reason, ended: epoch seconds of the run's end).
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hydratrack.names import CONFIG_TYPE

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.client.api import ApiClient
    from hydratrack.client.config import ClientConfig

Op = dict[str, Any]

OP_KINDS = frozenset(
    {
        "create_task",
        "update_task",
        "put_hyperparams",
        "patch_hyperparams",
        "put_configuration",
        "events",
        "artifact",
        "status",
    }
)


class TransportError(Exception):
    """A delivery failed."""


class Unavailable(TransportError):
    """The server could not be reached or answered 5xx: try again later or spool."""


class Unauthorized(TransportError):
    """The server rejected the credentials (401): retrying will not help."""


class Rejected(TransportError):
    """The server refused this op (4xx other than 401); ``code``/``details`` say why."""

    def __init__(self, message: str, code: str = "", details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class Transport(Protocol):
    """Delivers ops; raises :class:`Unavailable`, :class:`Unauthorized` or :class:`Rejected`."""

    def send(self, op: Op) -> None: ...

    def close(self) -> None: ...


def describe(op: Op) -> str:
    """A short human name of an op, for warnings."""
    kind = op.get("op", "?")
    if kind == "put_configuration":
        return f"configuration object {op.get('name')!r}"
    if kind == "put_hyperparams":
        return f"hyperparameters section {op.get('section')!r}"
    if kind == "artifact":
        return f"artifact {op.get('name')!r}"
    if kind == "events":
        events = op.get("events", [])
        points = sum(len(ev.get("iters", ())) for ev in events if ev.get("type") == "scalars")
        others = sum(1 for ev in events if ev.get("type") != "scalars")
        parts = [f"{points} scalar points"] if points else []
        return ", ".join(parts + ([f"{others} events"] if others or not parts else []))
    if kind == "status":
        return f"status {op.get('status')!r}"
    return str(kind).replace("_", " ")


def split_batch(op: Op) -> list[Op] | None:
    """An events op as two with about half the points each, or None when it is one point or
    event. The halves' batch ids are made from the op's (``<id>.0``, ``<id>.1``): the server
    stored nothing of the refused batch, and a split made again after an interruption (a
    ``hydratrack sync`` run twice) gives the same ids, so nothing is stored twice."""
    flat: list[dict[str, Any]] = []
    for ev in op["events"]:
        if ev["type"] == "scalars" and len(ev["iters"]) > 1:
            mid = len(ev["iters"]) // 2
            cols = ("iters", "values", "ts_us" if "ts_us" in ev else "ts")
            flat.append({**ev, **{c: ev[c][:mid] for c in cols}})
            flat.append({**ev, **{c: ev[c][mid:] for c in cols}})
        else:
            flat.append(ev)
    if len(flat) < 2:
        return None
    weight = [len(ev["iters"]) if ev["type"] == "scalars" else 1 for ev in flat]
    half, cut = sum(weight) / 2, 0
    while cut < len(flat) - 1 and sum(weight[: cut + 1]) <= half:
        cut += 1
    cut = max(cut, 1)
    return [
        {**op, "batch_id": f"{op['batch_id']}.{i}", "events": part}
        for i, part in enumerate((flat[:cut], flat[cut:]))
    ]


class HttpTransport:
    """Sends ops to the REST API (docs/api.md) through an :class:`ApiClient`."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    @classmethod
    def from_config(
        cls, timeout: float = 10.0, config: ClientConfig | None = None
    ) -> HttpTransport:
        """To the configured server (``config``: settings already read, else read now)."""
        from hydratrack.sdk.connection import open_client

        return cls(open_client(timeout, config))

    @property
    def api_host(self) -> str:
        return self.client.api_host

    def close(self) -> None:
        self.client.close()

    def send(self, op: Op) -> None:
        from hydratrack.client.api import ApiError, ServerUnreachable

        try:
            self._dispatch(op)
        except ServerUnreachable as exc:
            raise Unavailable(str(exc)) from exc
        except ApiError as exc:
            if exc.status == 401:
                raise Unauthorized(exc.message or "unauthorized") from exc
            if exc.status >= 500 or exc.status in (408, 429):
                raise Unavailable(str(exc)) from exc
            raise Rejected(exc.message or str(exc), exc.code, exc.details) from exc

    def _dispatch(self, op: Op) -> None:
        c, kind, tid = self.client, op["op"], op["task_id"]
        if kind == "create_task":
            c.create_task({"id": tid, **op["body"]})
        elif kind == "update_task":
            c.update_task(tid, **op["fields"])
        elif kind == "put_hyperparams":
            params = dict(op["params"])
            keep = op.get("keep") or []
            if keep:  # entries whose stored value wins (e.g. _allow_omegaconf_edit_)
                stored = (c.get_hyperparams(tid) or {}).get(op["section"], {})
                for name in keep:
                    if name in stored:
                        params[name] = stored[name]
            c.put_hyperparam_section(tid, op["section"], params)
        elif kind == "patch_hyperparams":
            c.patch_hyperparams(tid, op["changes"])
        elif kind == "put_configuration":
            c.put_configuration(
                tid, op["name"], op["value"], op.get("type", CONFIG_TYPE), op.get("description", "")
            )
        elif kind == "events":
            c.post_events(tid, op["batch_id"], op["events"])
        elif kind == "artifact":
            c.upload_artifact(tid, op["name"], Path(op["path"]), op.get("metadata"))
        elif kind == "status":
            c.set_status(
                tid, op["status"], op.get("message", ""), op.get("reason", ""), op.get("ended")
            )
        else:
            raise Rejected(f"unknown op kind {kind!r}", "bad_op")


class MockTransport:
    """Keeps every op in memory (``.ops``) and folds them into ``.tasks`` like a server would.

    ``fail_with`` (an exception instance or class) makes the next ``fail_count`` sends raise
    it, to exercise retry and spooling in tests.
    """

    def __init__(self, fail_with: Any = None, fail_count: int = 0) -> None:
        self.ops: list[Op] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.batch_ids: set[str] = set()
        self.fail_with = fail_with
        self.fail_count = fail_count
        self.closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        self.closed = True

    def send(self, op: Op) -> None:
        with self._lock:
            if self.fail_with is not None and self.fail_count > 0:
                self.fail_count -= 1
                raise (
                    self.fail_with
                    if isinstance(self.fail_with, BaseException)
                    else self.fail_with("mock failure")
                )
            if op.get("op") not in OP_KINDS:
                raise Rejected(f"unknown op kind {op.get('op')!r}", "bad_op")
            op = copy.deepcopy(op)
            self.ops.append(op)
            self._fold(op)

    def _fold(self, op: Op) -> None:
        tid, kind = op["task_id"], op["op"]
        task = self.tasks.setdefault(
            tid, {"id": tid, "hyperparams": {}, "configuration": {}, "events": [], "artifacts": {}}
        )
        if kind == "create_task":
            body = op["body"]
            task.update(
                {k: v for k, v in body.items() if k not in ("hyperparams", "configuration")}
            )
            task["hyperparams"].update(copy.deepcopy(body.get("hyperparams") or {}))
            task["configuration"].update(copy.deepcopy(body.get("configuration") or {}))
        elif kind == "update_task":
            task.update(op["fields"])
        elif kind == "put_hyperparams":
            old = task["hyperparams"].get(op["section"], {})
            new = dict(op["params"])
            for name in op.get("keep") or []:
                if name in old:
                    new[name] = old[name]
            task["hyperparams"][op["section"]] = new
        elif kind == "patch_hyperparams":
            for section, entries in op["changes"].items():
                sec = task["hyperparams"].setdefault(section, {})
                for name, entry in entries.items():
                    if entry is None:
                        sec.pop(name, None)
                    else:
                        sec[name] = {**sec.get(name, {}), **entry}
        elif kind == "put_configuration":
            task["configuration"][op["name"]] = {
                "value": op["value"],
                "type": op.get("type", CONFIG_TYPE),
                "description": op.get("description", ""),
            }
        elif kind == "events":
            if op["batch_id"] in self.batch_ids:
                return
            self.batch_ids.add(op["batch_id"])
            task["events"].extend(op["events"])
        elif kind == "artifact":
            task["artifacts"][op["name"]] = Path(op["path"]).read_bytes()
        elif kind == "status":
            task["status"] = op["status"]
            task["status_message"] = op.get("message", "")

    # -- helpers for assertions -------------------------------------------------
    def events(self, task_id: str, type: str | None = None) -> list[dict[str, Any]]:
        evs = self.tasks.get(task_id, {}).get("events", [])
        return [e for e in evs if type is None or e["type"] == type]

    def scalars(self, task_id: str) -> list[tuple[str, str, int, float]]:
        """Every point, per-point ``scalar`` and columnar ``scalars`` events alike."""
        out = []
        for e in self.events(task_id):
            if e["type"] == "scalar":
                out.append((e["metric"], e["variant"], e["iter"], e["value"]))
            elif e["type"] == "scalars":
                out.extend(
                    (e["metric"], e["variant"], i, v)
                    for i, v in zip(e["iters"], e["values"], strict=True)
                )
        return out

    def console(self, task_id: str) -> str:
        return "".join(e["text"] for e in self.events(task_id, "console"))

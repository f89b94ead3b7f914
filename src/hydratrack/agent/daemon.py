"""The agent: a linear, logged loop that runs queued tasks one at a time.

    register as a worker
    loop:
        stop requested?            -> leave the loop
        claim (long-poll)          -> nothing within the poll time: loop again
        run the task               (runner.py; the heartbeat thread renews the lease and
                                    turns the server's abort list into an abort)
    unregister

Signals: the first SIGINT/SIGTERM drains (an idle agent stops at once; a busy one finishes
its task first); a second one aborts the running task (reported ``stopped``) and stops.
Several agents may run on one machine; each claims and runs one task at a time.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from hydratrack.agent.runner import TaskRunner
from hydratrack.agent.settings import AgentSettings
from hydratrack.client import ApiClient, ApiError

log = logging.getLogger("hydratrack.agent")


class _Idle(BaseException):
    """Raised by the signal handler to leave a claim long-poll at once."""


class Agent:
    def __init__(self, api: ApiClient, runner: TaskRunner, settings: AgentSettings) -> None:
        self.api, self.runner, self.settings = api, runner, settings
        self.worker_id: str | None = None
        self.task_id: str | None = None
        self.stopping = threading.Event()
        self._signals = 0
        self._in_claim = False
        self._lock = threading.Lock()

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> int:
        self._install_signals()
        self._register()
        beat = threading.Thread(
            target=self._heartbeat_loop, daemon=True, name="hydratrack-heartbeat"
        )
        beat.start()
        done = 0
        try:
            while not self.stopping.is_set():
                task = self._claim()
                if task is None:
                    continue
                self._run(task)
                done += 1
                if self.settings.once:
                    break
        except _Idle:
            log.info("stop requested while idle")
            held = self._held_task()  # a claim answered just as the stop came
            if held is not None:
                log.info("task %s was claimed as the stop came: running it first", held["id"])
                self._run(held)
                done += 1
        finally:
            self.stopping.set()
            self._unregister()
        log.info("agent %s stopped after %d task(s)", self.settings.name, done)
        return 0

    def _register(self) -> None:
        worker = self.api.register_worker(
            self.settings.name,
            list(self.settings.queue),
            users=list(self.settings.only_user),
            projects=list(self.settings.only_project),
        )
        self.worker_id = str(worker["id"])
        self._warn_on_personal_key()
        log.info(
            "registered as worker %s (%s) on queues %s",
            self.settings.name,
            self.worker_id,
            ", ".join(self.settings.queue),
        )

    def _warn_on_personal_key(self) -> None:
        """A task's code runs as this OS user: it can read what this user can, the config
        file with a person's key pair included. An agent key limits that to its queues."""
        try:
            scope = (self.api.me().get("credential") or {}).get("scope")
        except ApiError:
            return
        if scope == "user":
            log.warning(
                "this agent runs on a person's key pair: the tasks it runs can read it "
                "(e.g. from ~/.hydratrack/config.toml) and act as that person. Create an "
                "agent key with `hydratrack keys create --agent` (see docs/agent.md)"
            )

    def _claim(self) -> dict[str, Any] | None:
        assert self.worker_id is not None
        self._in_claim = True
        try:
            if self.stopping.is_set():
                return None
            task = self.api.claim(self.worker_id, timeout=self.settings.poll_seconds)
        except ApiError as exc:
            log.warning("claim failed: %s; retrying", exc)
            self.stopping.wait(2.0)
            if exc.status == 404:  # the server forgot us: register again
                self._register()
            return None
        finally:
            self._in_claim = False
        if task is not None:
            queue = task.get("queue")
            queue_name = queue.get("name") if isinstance(queue, dict) else queue
            log.info("claimed task %s (%s) from queue %s", task["id"], task.get("name"), queue_name)
        return task

    def _run(self, task: dict[str, Any]) -> None:
        with self._lock:
            self.task_id = str(task["id"])
        try:
            self.runner.run(task)
        except Exception as exc:  # noqa: BLE001 - report and keep serving the queue
            log.exception("task %s: agent error", task["id"])
            try:
                self.api.set_status(
                    str(task["id"]), "failed", message="agent error", reason=f"agent error: {exc}"
                )
            except ApiError:
                pass
        finally:
            with self._lock:
                self.task_id = None

    def _held_task(self) -> dict[str, Any] | None:
        """The task the server says this worker holds, if any (after an interrupted claim)."""
        try:
            for worker in self.api.list_workers()["items"]:
                if worker["id"] == self.worker_id and worker.get("task"):
                    task = self.api.get_task(worker["task"]["id"], unmasked=True)
                    return task if task["status"] == "in_progress" else None
        except ApiError as exc:
            log.warning("cannot check for a held task: %s", exc)
        return None

    def _unregister(self) -> None:
        if self.worker_id is None:
            return
        try:
            self.api.unregister_worker(self.worker_id)
            log.info("unregistered worker %s", self.worker_id)
        except ApiError as exc:
            log.warning("cannot unregister worker %s: %s", self.worker_id, exc)

    # -- heartbeat ----------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            self.beat()

    def beat(self) -> None:
        """One heartbeat: renew the lease; abort the running task if the server says so."""
        worker_id = self.worker_id
        if worker_id is None:
            return
        with self._lock:
            task_id = self.task_id
        try:
            answer = self.api.heartbeat(worker_id, task_id)
        except ApiError as exc:
            log.warning("heartbeat failed: %s", exc)
            if exc.status == 404 and task_id is None and not self.stopping.is_set():
                self._register()  # the server forgot this worker: register again
            return
        if task_id and task_id in (answer or {}).get("abort", []):
            log.info("server asks to stop task %s", task_id)
            self.runner.abort("aborted on request", task_id)

    # -- signals ------------------------------------------------------------------------
    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self.stopping.set()
        name = signal.Signals(signum).name
        if self.task_id is None:
            log.info("%s: stopping", name)
            if self._in_claim:
                raise _Idle()
            return
        if self._signals == 1:
            log.info("%s: finishing task %s, then stopping (again to abort it)", name, self.task_id)
        else:
            log.info("%s: aborting task %s", name, self.task_id)
            self.runner.abort("agent stopped")


def configure_logging(level: int = logging.INFO, stream: Any = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s agent: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("hydratrack.agent")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False

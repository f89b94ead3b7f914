"""One run of a script recorded as a task: the sender, console, capture and exit status.

``Run`` is what ``Task.init`` starts. Nothing here waits on the network: the calling
thread takes a snapshot of in-memory facts and queues ops; the sender thread builds and
delivers them. At exit (``atexit``) the run reports its final status and flushes with a
bounded wait (``HYDRATRACK_EXIT_TIMEOUT``, default 2 s).

Exit status: an uncaught exception (``sys.excepthook``) or ``sys.exit`` (or the builtin
``exit``/``quit``) with a non-zero code (how Hydra ends a failed job) marks the task
``failed``, message ``exit code N``, reason the real error (the exception line);
``KeyboardInterrupt`` marks it ``stopped``; anything else ``completed``. In a remote run
(``HYDRATRACK_TASK_ID``, set by the agent) the runner owns the status and the run does not
report it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import uuid
from typing import Any

from hydratrack.names import (
    CONFIG_OBJECT,
    CONFIG_TYPE,
    CONSOLE_BY_AGENT_ENV,
    EXIT_TIMEOUT_ENV,
    HYDRA_SECTION,
    TASK_ID_ENV,
)
from hydratrack.sdk import hydra as hydra_capture
from hydratrack.sdk.capture import full_script, quick_script
from hydratrack.sdk.console import ConsoleCapture, error_line
from hydratrack.sdk.sender import Sender, notice, warn
from hydratrack.sdk.spool import SpoolTransport, spool_root
from hydratrack.sdk.transport import HttpTransport, Op, Transport

HOLD_SECONDS = 3.0  # how long Task.init before @hydra.main waits for the job to start
# How long the create request waits for the script facts (packages, git) so they ride in
# it: one request fewer. Slower git: the task is created without them, they follow.
SCRIPT_WAIT_SECONDS = 0.5


def _exit_timeout() -> float:
    try:
        return float(os.environ.get(EXIT_TIMEOUT_ENV, "2"))
    except ValueError:
        return 2.0


class Run:
    def __init__(
        self,
        project_name: str,
        task_name: str,
        task_type: str = "training",
        tags: list[str] | None = None,
        transport: Transport | None = None,
        capture_console: bool = True,
    ) -> None:
        self.started = time.time()
        task_id = os.environ.get(TASK_ID_ENV)  # set by the agent for a remote run
        self.remote = bool(task_id)
        self.task_id = task_id or uuid.uuid4().hex
        self.name, self.project, self.task_type = task_name, project_name, task_type
        self.spool_root = spool_root()
        self.offline = False  # HYDRATRACK_OFFLINE / `offline = true`: known once connected
        self.status: tuple[str, str] | None = None  # (status, message) once decided
        self.reason = ""  # the real error of a failure (else the message is the reason)
        self.closed = False
        self._closing = False
        self.hydra_captured = False
        self.job_key: tuple[Any, ...] | None = None

        spool = SpoolTransport(self.spool_root)
        self._spool = spool

        def make_transport() -> Transport:
            return transport if transport is not None else self._connect(spool)

        def make_spool() -> Transport:
            spool.mark_active(self.task_id)
            return spool

        snap = None
        if hydra_capture.job_running():
            snap = hydra_capture.snapshot()
            self.job_key = (snap.output_dir, snap.job_num)
        self.script = quick_script()
        self._script_done = threading.Event()
        self._script_lock = threading.Lock()
        self._startup_built = False  # the first ops (with self.script as it was) are made
        self._tags = tags
        # Task.init before the @hydra.main function runs: hold everything until the job
        # starts (its capture goes into the create request), or until exit.
        deferred = snap is None and "hydra" in sys.modules
        self.sender = Sender(
            self.task_id,
            make_transport,
            make_spool,
            hold=deferred,
            startup=None if deferred else lambda: self._startup_ops(snap, tags),
        )
        self.console: ConsoleCapture | None = None
        if capture_console and os.environ.get(CONSOLE_BY_AGENT_ENV) != "1":
            owner = (
                hydra_capture.job_owner() if snap is not None and snap.mode == "MULTIRUN" else None
            )
            self.console = ConsoleCapture(self.sender.events.append, owner)
            self.console.install()
        self.sender.start()
        self._script_thread = threading.Thread(
            target=self._capture_script, daemon=True, name="hydratrack-script"
        )
        self._script_thread.start()
        self._watcher: threading.Thread | None = None
        self._saw_job = False
        self._saw_compose = False
        self._info_only = deferred and _hydra_info_only()
        if deferred and not self._info_only:
            self._watcher = threading.Thread(
                target=self._watch_hydra, daemon=True, name="hydratrack-hydra"
            )
            self._watcher.start()

    # -- startup and capture (sender / helper threads) -----------------------------
    def _connect(self, spool: SpoolTransport) -> Transport:
        """The run's transport, from the client settings (env over the config file). Made
        on the sender thread, so reading the file (and importing the TOML parser, ~2.5 ms)
        is not part of ``Task.init``. A malformed file raises: the sender says so in one
        warning and spools."""
        from hydratrack.client.config import load_client_config

        cfg = load_client_config()
        if cfg.offline:
            self.offline = True
            spool.mark_active(self.task_id)
            return spool
        if not cfg.has_credentials:
            raise RuntimeError(
                "no API credentials configured (HYDRATRACK_ACCESS_KEY / "
                "HYDRATRACK_SECRET_KEY or ~/.hydratrack/config.toml)"
            )
        return HttpTransport.from_config(config=cfg)

    def _startup_ops(self, snap: hydra_capture.Snapshot | None, tags: list[str] | None) -> list[Op]:
        self._script_done.wait(SCRIPT_WAIT_SECONDS)
        with self._script_lock:
            self._startup_built = True
            script = self.script
        cap = None
        if snap is not None:
            cap = hydra_capture.capture(snap)
            self.hydra_captured = True
            for w in cap.warnings:
                warn(w)
        if self.remote:
            ops: list[Op] = [{"op": "update_task", "fields": {"script": script}}]
            return ops + (hydra_capture.ops_for(cap, remote=True) if cap else [])
        body: dict[str, Any] = {
            "name": self.name,
            "project": self.project,
            "type": self.task_type,
            "status": "in_progress",
            "script": script,
            "tags": list(tags or []),
        }
        if cap is not None:
            body["runtime"] = cap.runtime
            body["hyperparams"] = {HYDRA_SECTION: cap.section}
            if cap.config_yaml is not None:
                body["configuration"] = {
                    CONFIG_OBJECT: {
                        "value": cap.config_yaml,
                        "type": CONFIG_TYPE,
                        "description": "Hydra job config (as --cfg job prints it)",
                    }
                }
        return [{"op": "create_task", "body": body}]

    def _capture_script(self) -> None:
        try:
            script = full_script(self.script)
        except Exception as exc:  # noqa: BLE001
            warn(f"script capture failed: {type(exc).__name__}: {exc}")
            self._script_done.set()
            return
        with self._script_lock:
            self.script = script
            late = self._startup_built  # else the first ops carry it
            self._script_done.set()
        if late:
            self.sender.put({"op": "update_task", "fields": {"script": script}})

    def _watch_hydra(self) -> None:
        while not self._closing:
            if self.sender.hold and time.time() - self.started > HOLD_SECONDS:
                # no job yet (slow setup, or the Compose API): create the task now so it
                # shows live; a job's capture is added to it when it starts
                self.sender.release(self._startup_ops(None, self._tags))
            if not self._saw_compose and hydra_capture.compose_api_active():
                self._saw_compose = True  # (also true for a moment before a @hydra.main job)
            if hydra_capture.job_running():
                self._saw_job = True
                try:
                    snap = hydra_capture.snapshot(compose_if_needed=False)
                except Exception:  # noqa: BLE001 - Hydra is still filling it in
                    snap = None
                if snap is not None and snap.output_dir:
                    self._capture_later(snap)
                    return
            time.sleep(0.002)  # a job that ends within this is missed (warned at close)

    def _capture_later(self, snap: hydra_capture.Snapshot) -> None:
        if self.hydra_captured:
            return
        if snap.output_subdir is not None:
            hydra_capture.wait_for_job_files(
                snap.output_dir, snap.output_subdir, self.started - 1.0, timeout=2.0
            )
        else:
            snap.config_yaml = hydra_capture.compose_job_config(snap)
        if snap.mode == "MULTIRUN":
            warn(
                "Hydra capture: Task.init ran before a multirun started, so only the first "
                "job is recorded; call Task.init inside the @hydra.main function instead"
            )
        self.job_key = (snap.output_dir, snap.job_num)
        if self.sender.hold:
            self.sender.release(self._startup_ops(snap, self._tags))
        else:
            cap = hydra_capture.capture(snap)
            self.hydra_captured = True
            for w in cap.warnings:
                warn(w)
            for op in hydra_capture.ops_for(cap, remote=self.remote):
                self.sender.put(op)

    # -- exit ------------------------------------------------------------------------
    def on_exception(self, exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if self.status is None:
            if issubclass(exc_type, KeyboardInterrupt):
                self.status = ("stopped", "interrupted (KeyboardInterrupt)")
            else:  # Python ends the process with exit code 1 after printing it
                self.status = ("failed", "exit code 1")
                text = "".join(traceback.format_exception_only(exc_type, exc))
                self.reason = error_line(text.splitlines())

    def on_exit_code(self, code: Any) -> None:
        """``sys.exit(code)``: ``exit code N`` is the message, the real error the reason
        (the exception line Hydra printed, or the text of ``sys.exit("text")``), as the
        agent records a remote failure."""
        if self.status is None and code not in (None, 0):
            if isinstance(code, int):
                self.status = ("failed", f"exit code {code}")
                self.reason = (
                    self.console.err.error_line() if self.console and self.console.err else ""
                )
            else:  # Python prints the object and exits with 1
                self.status = ("failed", "exit code 1")
                self.reason = str(code)

    def close(self, status: str | None = None, message: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.sender.exiting.set()
        if self._info_only:  # `--cfg job`, `--help`, ...: Hydra runs no job, so no task
            self.sender.discard()
            self.sender.close(0.1)
            if self.console is not None:
                self.console.finish()
            if self.offline or self.sender.spooling:
                self._spool.mark_done(self.task_id)
            return
        if self._watcher is not None:
            self._closing = True
            self._watcher.join(3.0)  # it may be waiting for Hydra's files of this job
            if not self.hydra_captured and hydra_capture.job_running():
                try:
                    self._capture_later(hydra_capture.snapshot())
                except Exception as exc:  # noqa: BLE001
                    warn(f"Hydra capture failed: {type(exc).__name__}: {exc}")
            if self.sender.hold:
                self.sender.release(self._startup_ops(None, self._tags))
            if not self.hydra_captured:
                note = None
                if self._saw_compose or hydra_capture.compose_api_active():
                    note = hydra_capture.COMPOSE_WARNING
                elif self._saw_job:
                    note = (
                        "Hydra capture: the job ended before its config could be read; "
                        "call Task.init inside the @hydra.main function"
                    )
                if note:
                    warn(note)
        if self.console is not None:
            self.console.finish()
        ended = time.time()  # the run's end (a status replayed from the spool keeps it)
        timeout = _exit_timeout()
        deadline = time.monotonic() + timeout  # one bound for everything below
        self._script_thread.join(timeout)
        if not self.remote:
            final = (status, message) if status else (self.status or ("completed", ""))
            reason = (self.reason if not status else "") or final[1]
            self.sender.put(
                {
                    "op": "status",
                    "status": final[0],
                    "message": final[1],
                    "reason": reason,
                    "ended": ended,
                },
                after_events=True,
            )
        self.sender.close(timeout=max(0.2, deadline - time.monotonic()))
        if self.offline or self.sender.spooling:
            where = self._spool.task_dir(self.task_id)
            if self.offline:
                notice(
                    f"offline run: task {self.task_id} spooled to {where}; "
                    "upload it with `hydratrack sync`"
                )
            self._spool.mark_done(self.task_id)


_HYDRA_INFO_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--shell-completion", "-sc"}
_CFG_FLAGS = {"--cfg", "-c"}
_CFG_VALUES = {"job", "hydra", "all"}


def _hydra_info_only() -> bool:
    """Hydra was asked to print something (``--cfg job``, ``--help``, ...), not to run."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        flag, eq, value = arg.partition("=")
        if flag in _HYDRA_INFO_FLAGS:
            return True
        if flag in _CFG_FLAGS:
            value = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            if value in _CFG_VALUES:
                return True
    return False

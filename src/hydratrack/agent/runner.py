"""Running one claimed task: code, command, child process, console, final status.

``TaskRunner.run(task)`` reads top to bottom: prepare the code, build the command (edits
applied), start the child in its own process group, stream its console, wait for it to end
or for an abort, and report the final status:

* exit code 0 -> ``completed``; non-zero -> ``failed``, message ``exit code N`` and as
  reason the real error: the exception line of the child's last traceback (Hydra runs with
  ``HYDRA_FULL_ERROR=1``), else its last stderr line; the SDK records a local failure the
  same way (:func:`hydratrack.sdk.console.error_line`);
* abort (``abort_event`` set by the heartbeat, or by the caller) -> SIGTERM to the child's
  process group, SIGKILL after ``grace`` seconds -> ``stopped``;
* a task that already reached a final state meanwhile (e.g. failed by the server's lease
  sweeper) keeps it; so does a task no longer held by this agent's worker (re-queued after
  the lease ran out, perhaps running elsewhere now);
* the server down at the end: the console and the final status are retried for
  ``report_seconds`` (the run's result is not lost to a server restart).

Code or command problems fail the task at once, with the reason in its console too.
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Mapping

from hydratrack.agent import retry
from hydratrack.agent.command import CommandError, RunSpec, build_run_spec
from hydratrack.agent.console import ConsoleStream
from hydratrack.agent.interpreter import Interpreter
from hydratrack.agent.workspace import Workspace, WorkspaceError
from hydratrack.client import ApiClient, ApiError
from hydratrack.names import ACCESS_KEY_ENV, SECRET_KEY_ENV
from hydratrack.sdk.console import error_line
from hydratrack.status import TaskStatus

log = logging.getLogger("hydratrack.agent")
REPORT_SECONDS = 600.0  # how long the end of a run is retried while the server is away


class TaskRunner:
    def __init__(
        self,
        api: ApiClient,
        workspace: Workspace,
        *,
        interpreter: Interpreter | None = None,
        client_env: Mapping[str, str],
        grace: float = 10.0,
        echo: Callable[[str, str], None] | None = None,
        keep_checkout: bool = False,
        report_seconds: float = REPORT_SECONDS,
    ) -> None:
        self.api, self.workspace = api, workspace
        self.interpreter = interpreter or Interpreter()
        self.client_env = dict(client_env)
        self.grace, self.echo, self.keep_checkout = grace, echo, keep_checkout
        self.report_seconds = report_seconds
        self.abort_event = threading.Event()
        self.abort_reason = "aborted"
        self.task_id: str | None = None  # the task being run now
        self._abort_lock = threading.Lock()

    def abort(self, reason: str, task_id: str | None = None) -> None:
        """Abort the running task; with ``task_id``, only if that is the task running now
        (a heartbeat answered about the previous task must not stop the next one)."""
        with self._abort_lock:
            if task_id is not None and task_id != self.task_id:
                return
            self.abort_reason = reason
            self.abort_event.set()

    def run(self, task: Mapping[str, Any]) -> str:
        """Run ``task`` (already ``in_progress``); return the final status reported."""
        task_id = str(task["id"])
        with self._abort_lock:
            self.task_id = task_id
            self.abort_event.clear()
        try:
            return self._run(task_id, task)
        finally:
            with self._abort_lock:
                self.task_id = None

    def _run(self, task_id: str, task: Mapping[str, Any]) -> str:
        console = ConsoleStream(self.api, task_id, echo=self.echo)
        finish = functools.partial(self._finish, task, console)
        try:
            spec = self._prepare(task, console)
            if isinstance(spec, str):
                return finish(TaskStatus.FAILED, spec, spec)
            code = self._execute(spec, console)
        finally:
            (self.workspace.root / "edits" / f"{task_id}.yaml").unlink(missing_ok=True)
            if not self.keep_checkout:
                self.workspace.release(task_id)
        if self.abort_event.is_set():
            return finish(TaskStatus.STOPPED, self.abort_reason, self.abort_reason)
        if code == 0:
            return finish(TaskStatus.COMPLETED, "", "")
        message = f"exit code {code}"
        reason = error_line(console.tail) or message
        return finish(TaskStatus.FAILED, message, reason)

    # -- steps ------------------------------------------------------------------------
    def _prepare(self, task: Mapping[str, Any], console: ConsoleStream) -> RunSpec | str:
        """The command to run, or why the task cannot start."""
        task_id = str(task["id"])
        try:
            token = self.api.task_token(task_id)
        except ApiError as exc:
            log.error("task %s cannot start: no task token: %s", task_id, exc)
            console.note(f"task cannot start: the server gave no task token: {exc}")
            return f"no task token: {exc}"
        client_env = {
            **self.client_env,
            ACCESS_KEY_ENV: str(token["access_key"]),
            SECRET_KEY_ENV: str(token["secret_key"]),
        }
        try:
            cwd = self.workspace.prepare(task)
            python = self.interpreter.python_for(task)
            edit_file = self.workspace.root / "edits" / f"{task_id}.yaml"
            spec = build_run_spec(
                task,
                cwd=cwd,
                python=python,
                base_env=os.environ,
                client_env=client_env,
                edit_file=edit_file,
            )
        except (WorkspaceError, CommandError) as exc:
            log.error("task %s cannot start: %s", task_id, exc)
            console.note(f"task cannot start: {exc}")
            return str(exc)
        if spec.edit_text is not None:
            edit_file.parent.mkdir(parents=True, exist_ok=True)
            edit_file.write_text(spec.edit_text, encoding="utf-8")
        return spec

    def _execute(self, spec: RunSpec, console: ConsoleStream) -> int:
        shown = shlex.join(spec.argv)  # pasted into a shell, it runs the same command
        log.info("running (%s mode) in %s: %s", spec.mode, spec.cwd, shown)
        if self.abort_event.is_set():  # aborted while the code was being prepared
            return -1
        console.note(f"running in {spec.cwd}: {shown}")
        try:
            child = subprocess.Popen(
                spec.argv,
                cwd=spec.cwd,
                env=spec.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            console.note(f"cannot start the process: {exc}")
            console.tail.append(f"cannot start the process: {exc}")  # the failure reason
            return 127
        assert child.stdout is not None and child.stderr is not None
        log.info("started process %d", child.pid)
        console.follow(child.stdout, "stdout")
        console.follow(child.stderr, "stderr")
        while child.poll() is None:
            if self.abort_event.wait(0.2):
                self._terminate(child, console)
                break
        code = child.wait()
        log.info("process %d exited with code %d", child.pid, code)
        return code

    def _terminate(self, child: subprocess.Popen[bytes], console: ConsoleStream) -> None:
        console.note(f"{self.abort_reason}: sending SIGTERM, SIGKILL after {self.grace:g} s")
        log.info("aborting process %d (%s)", child.pid, self.abort_reason)
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.wait(self.grace)
        except subprocess.TimeoutExpired:
            console.note("process did not end: sending SIGKILL")
            _signal_group(child.pid, signal.SIGKILL)
        child.wait()

    def _finish(
        self,
        task: Mapping[str, Any],
        console: ConsoleStream,
        status: TaskStatus,
        message: str,
        reason: str,
    ) -> str:
        task_id = str(task["id"])
        if status is not TaskStatus.COMPLETED and reason:
            console.note(f"task {status}: {reason}")
        console.close(self.report_seconds)
        deadline = time.monotonic() + self.report_seconds
        failures = 0
        while True:
            try:
                kept = self._kept_status(task, self.api.get_task(task_id))
                if kept is not None:
                    return kept
                self.api.set_status(task_id, status.value, message=message, reason=reason)
                break
            except ApiError as exc:
                failures += 1
                if not retry.transient(exc) or time.monotonic() > deadline:
                    log.error("cannot report task %s as %s: %s", task_id, status, exc)
                    break
                log.warning("cannot report task %s as %s yet: %s; retrying", task_id, status, exc)
                time.sleep(retry.delay(failures))
        log.info("task %s %s%s", task_id, status, f": {reason}" if reason else "")
        return status.value

    @staticmethod
    def _kept_status(task: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
        """The task's status when this run must not report its own: it already ended, or
        it is no longer held by the worker that claimed it (re-queued, run elsewhere)."""
        task_id, now = task["id"], str(current["status"])
        if TaskStatus(now).is_final:
            log.info("task %s already %s; keeping it", task_id, now)
            return now
        ours, holder = task.get("worker"), current.get("worker")
        # by id, or by name: a worker registered again under its name keeps its tasks
        if ours and (not holder or all(holder.get(k) != ours.get(k) for k in ("id", "name"))):
            log.info("task %s is no longer held by this worker (now %s); keeping it", task_id, now)
            return now
        return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the child gets SIGTERM if the agent dies (no task left running unseen)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:  # pragma: no cover - a setuid child
        os.kill(pid, sig)

"""``Task``: record a run (``Task.init``) and read or steer tasks (ClearML's names).

Writes of the running task go through its background sender (never blocking); reads and
steering calls (``get_*``, ``clone``, ``enqueue``, ...) are plain synchronous API calls.
"""

from __future__ import annotations

import atexit
import builtins
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hydratrack.names import CONFIG_TYPE, HYDRA_SECTION
from hydratrack.sdk.artifact import stage_artifact
from hydratrack.sdk.params import configuration_text, flatten_params

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.client.api import ApiClient
    from hydratrack.sdk.logger import Logger
    from hydratrack.sdk.run import Run
    from hydratrack.sdk.transport import Transport

_lock = threading.Lock()
_hooks_installed = False


# Task.init keywords of ClearML's that hydratrack accepts but does not implement yet
CLEARML_OPTIONS = frozenset(
    {
        "reuse_last_task_id",
        "continue_last_task",
        "output_uri",
        "auto_connect_arg_parser",
        "auto_connect_frameworks",
        "auto_resource_monitoring",
        "deferred_init",
    }
)


def _check_clearml_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - CLEARML_OPTIONS)
    if unknown:
        raise TypeError(f"Task.init() got unexpected keyword argument(s): {', '.join(unknown)}")
    import warnings

    warnings.warn(
        f"hydratrack: Task.init({', '.join(sorted(options))}=...) is accepted for ClearML "
        "compatibility and has no effect yet",
        stacklevel=3,
    )


class Task:
    """A task on the server; ``Task.init`` makes one for the running script."""

    _current: ClassVar[Task | None] = None

    def __init__(
        self, task_id: str, data: dict[str, Any] | None = None, run: Run | None = None
    ) -> None:
        self._id = task_id
        self._data = data or {}
        self._run = run
        self._logger: Logger | None = None

    def __repr__(self) -> str:
        return f"<Task {self._id} {self.name!r}>"

    # -- recording a run ------------------------------------------------------------
    @classmethod
    def init(
        cls,
        project_name: str | None = None,
        task_name: str | None = None,
        task_type: str = "training",
        tags: list[str] | None = None,
        *,
        auto_connect_streams: bool = True,
        transport: Transport | None = None,
        **clearml_options: Any,
    ) -> Task:
        """Start recording this run as a task and return at once (no network wait).

        Inside a ``@hydra.main`` function (or before it) the composed config, the overrides
        and Hydra's runtime facts are recorded. ``transport`` replaces the server (e.g.
        :class:`hydratrack.sdk.transport.MockTransport` in unit tests).

        ClearML's other options (:data:`CLEARML_OPTIONS`) are accepted with a one-line
        warning that they have no effect yet; any other keyword is a ``TypeError``.
        """
        if clearml_options:
            _check_clearml_options(clearml_options)
        from hydratrack.sdk import hydra as hydra_capture
        from hydratrack.sdk.run import Run

        with _lock:
            current = cls._current
            if current is not None and current._run is not None and not current._run.closed:
                run = current._run
                if not (
                    hydra_capture.job_running()
                    and run.job_key is not None
                    and hydra_capture.snapshot(compose_if_needed=False).output_dir != run.job_key[0]
                ):
                    return current  # same job: the same task, like ClearML
                run.close()  # next job of a multirun: one task per job
            run = Run(
                project_name or "default",
                task_name or _default_name(),
                task_type,
                tags,
                transport,
                capture_console=auto_connect_streams,
            )
            task = cls(run.task_id, {"name": run.name, "project": {"name": run.project}}, run)
            cls._current = task
            _install_exit_hooks()
            return task

    @classmethod
    def current_task(cls) -> Task | None:
        return cls._current

    def get_logger(self) -> Logger:
        from hydratrack.sdk.logger import Logger

        if self._logger is None:
            if self._run is None:
                raise RuntimeError(
                    f"task {self._id} is not running in this process; "
                    "only the task made by Task.init has a logger"
                )
            self._logger = Logger(self._run.sender.events.append, self._id)
        return self._logger

    def connect(self, mutable: Any, name: str = "General") -> Any:
        """Record a dict / argparse.Namespace / dataclass as hyperparameters section ``name``."""

        if name == HYDRA_SECTION:
            raise ValueError(
                f"section {HYDRA_SECTION!r} is reserved for Hydra's command-line "
                "overrides; connect under another name"
            )
        params = flatten_params(mutable)
        self._write({"op": "put_hyperparams", "section": name, "params": params})
        return mutable

    def connect_configuration(
        self, configuration: Any, name: str = "General", description: str = ""
    ) -> Any:
        """Record a dict / file path / OmegaConf object as configuration object ``name``."""
        value, kind = configuration_text(configuration)
        self._write(
            {
                "op": "put_configuration",
                "name": name,
                "value": value,
                "type": kind,
                "description": description,
            }
        )
        return configuration

    def upload_artifact(
        self,
        name: str,
        artifact_object: Any,
        metadata: dict[str, Any] | None = None,
        wait_on_upload: bool = False,
    ) -> bool:
        """Upload a file (path) or an object (dict/list -> JSON, str -> text, bytes,
        anything else pickled) as artifact ``name``; in the background unless told."""
        run = self._require_run("upload_artifact")
        path = stage_artifact(run.spool_root.parent / "staging" / self._id, name, artifact_object)
        self._write(
            {"op": "artifact", "name": name, "path": str(path), "metadata": dict(metadata or {})}
        )
        if wait_on_upload:
            return self.flush(timeout=600.0)
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until what this task reported so far reached the server (or the spool)."""
        return self._run.sender.flush(timeout) if self._run is not None else True

    def close(self) -> None:
        """End the run: final status (``completed`` unless it failed), flush, stop capture."""
        if self._run is not None:
            self._run.close()
        if Task._current is self:
            Task._current = None

    def mark_failed(self, message: str = "") -> None:
        """End the run as ``failed`` with ``message``."""
        if self._run is not None:
            self._run.close(status="failed", message=message)

    # -- identity and reading ------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return str(self._data.get("name", ""))

    @property
    def project_name(self) -> str:
        return str((self._data.get("project") or {}).get("name", ""))

    @property
    def data(self) -> dict[str, Any]:
        """The task object as the server last answered it."""
        return self._data

    def reload(self) -> Task:
        self._before_read()
        self._data = _api().get_task(self._id)
        return self

    def get_status(self) -> str:
        return str(self.reload()._data["status"])

    def get_parameters(self) -> dict[str, str]:
        """``{"Section/name": value}`` of every hyperparameter."""
        self._before_read()
        params = _api().get_hyperparams(self._id) or {}
        return {
            f"{sec}/{k}": str(v.get("value", ""))
            for sec, entries in params.items()
            for k, v in entries.items()
        }

    def get_configuration_object(self, name: str) -> str | None:
        self._before_read()
        obj = (_api().get_configuration(self._id) or {}).get(name)
        return None if obj is None else str(obj.get("value", ""))

    def get_reported_scalars(self, max_samples: int = 0, x_axis: str = "iter") -> dict[str, Any]:
        self._before_read()
        query: dict[str, Any] = {"x_axis": x_axis}
        if max_samples:
            query["max_points"] = max_samples
        return dict(_api().get_scalars(self._id, **query) or {})

    def get_reported_console_output(self, number_of_reports: int = 0) -> list[str]:
        """Console text chunks, oldest first (all of them, or the last ``number_of_reports``)."""
        self._before_read()
        api, after = _api(), -1
        out: list[str] = []
        while True:
            page = api.get_console(self._id, after=after, limit=1000)
            items = page.get("items") or []
            out.extend(str(i["text"]) for i in items)
            if len(items) < 1000:
                break
            after = page.get("next_after", items[-1]["seq"])
        return out[-number_of_reports:] if number_of_reports else out

    # -- steering ------------------------------------------------------------------
    @classmethod
    def get_task(
        cls,
        task_id: str | None = None,
        project_name: str | None = None,
        task_name: str | None = None,
    ) -> Task:
        """A task by id, or the newest task named ``task_name`` (in ``project_name``)."""
        if task_id:
            return cls(task_id, _api().get_task(task_id))
        if not task_name:
            raise ValueError("get_task needs task_id, or task_name (and project_name)")
        found = cls.get_tasks(project_name=project_name, task_name=task_name)
        exact = [t for t in found if t.name == task_name]
        if not exact:
            where = f" in project {project_name!r}" if project_name else ""
            raise ValueError(f"no task named {task_name!r}{where}")
        return exact[0]

    @classmethod
    def get_tasks(
        cls,
        project_name: str | None = None,
        task_name: str | None = None,
        tags: list[str] | None = None,
        status: list[str] | None = None,
        limit: int = 1000,
    ) -> list[Task]:
        """Tasks, newest first; ``task_name`` matches as a substring."""
        page = _api().list_tasks(
            project=project_name,
            name=task_name,
            tag=tags,
            status=status,
            limit=limit,
            order_by="-created",
        )
        return [cls(t["id"], t) for t in page.get("items", [])]

    @classmethod
    def clone(
        cls,
        source_task: Task | str,
        name: str | None = None,
        comment: str | None = None,
        project: str | None = None,
    ) -> Task:
        """A new draft copying the source's script, hyperparameters and configuration."""
        source_id = source_task.id if isinstance(source_task, Task) else str(source_task)
        if isinstance(source_task, Task):
            source_task._before_read()
        extra = {k: v for k, v in (("comment", comment), ("project", project)) if v is not None}
        data = _api().clone_task(source_id, name, **extra)
        return cls(data["id"], data)

    def set_parameter(
        self, name: str, value: Any, description: str | None = None, value_type: str | None = None
    ) -> None:
        """Set hyperparameter ``"Section/name"`` of a draft (validated by the server)."""
        section, sep, key = name.partition("/")
        if not sep or not section or not key:
            raise ValueError(f"parameter name {name!r} must look like 'Section/name'")
        entry: dict[str, Any] = {"value": _param_text(value)}
        if description is not None:
            entry["description"] = description
        if value_type is not None:
            entry["type"] = value_type
        _api().patch_hyperparams(self._id, {section: {key: entry}})

    def delete_parameter(self, name: str) -> None:
        section, _, key = name.partition("/")
        _api().patch_hyperparams(self._id, {section: {key: None}})

    def set_configuration_object(
        self, name: str, config_text: str, config_type: str = CONFIG_TYPE, description: str = ""
    ) -> None:
        _api().put_configuration(self._id, name, config_text, config_type, description)

    @classmethod
    def enqueue(cls, task: Task | str, queue_name: str = "default") -> dict[str, Any]:
        task_id = task.id if isinstance(task, Task) else str(task)
        data: dict[str, Any] = _api().enqueue_task(task_id, queue_name)
        if isinstance(task, Task):
            task._data = data
        return data

    @classmethod
    def dequeue(cls, task: Task | str) -> dict[str, Any]:
        task_id = task.id if isinstance(task, Task) else str(task)
        data: dict[str, Any] = _api().dequeue_task(task_id)
        if isinstance(task, Task):
            task._data = data
        return data

    def abort(self, reason: str | None = None) -> None:
        self._data = _api().abort_task(self._id, reason)

    # -- internals -----------------------------------------------------------------
    def _write(self, op: dict[str, Any]) -> None:
        if self._run is not None and not self._run.closed:
            self._run.sender.put(op)
        else:
            from hydratrack.sdk.transport import HttpTransport

            HttpTransport(_api()).send({**op, "task_id": self._id})

    def _require_run(self, what: str) -> Run:
        if self._run is None or self._run.closed:
            raise RuntimeError(f"{what}: task {self._id} is not running in this process")
        return self._run

    def _before_read(self) -> None:
        if self._run is not None and not self._run.closed:
            self._run.sender.flush(5.0)


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _default_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else "task"


_client: ApiClient | None = None


def _api() -> ApiClient:
    global _client
    if _client is None:
        from hydratrack.sdk.connection import open_reader

        _client = open_reader()
    return _client


# -- process exit -------------------------------------------------------------------
def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    prev_hook = sys.excepthook
    real_exit = sys.exit

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        task = Task._current
        if task is not None and task._run is not None:
            task._run.on_exception(exc_type, exc, tb)
        prev_hook(exc_type, exc, tb)

    def exit_(code: Any = None) -> None:
        task = Task._current
        if task is not None and task._run is not None:
            task._run.on_exit_code(code)
        real_exit(code)

    sys.excepthook = excepthook
    sys.exit = exit_  # type: ignore[assignment]  # Hydra ends a failed job with sys.exit(1): that is how we see it
    for name in ("exit", "quit"):  # the site module's exit()/quit(), common in scripts
        real = getattr(builtins, name, None)
        if real is not None and not isinstance(real, _ExitRecorder):
            setattr(builtins, name, _ExitRecorder(real))
    atexit.register(_at_exit)
    _handle_sigterm()


class _ExitRecorder:
    """Wraps the builtin ``exit``/``quit`` so that ``exit(3)`` marks the task failed as
    ``sys.exit(3)`` does (a bare ``raise SystemExit(3)`` reaches no Python hook: it is
    recorded as completed). Prints like the wrapped object at the interactive prompt."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __call__(self, code: Any = None) -> None:
        task = Task._current
        if task is not None and task._run is not None:
            task._run.on_exit_code(code)
        self._real(code)

    def __repr__(self) -> str:
        return repr(self._real)


def _handle_sigterm() -> None:
    """SIGTERM (how agents and schedulers stop a run) ends the run through ``atexit`` so
    the last reports are delivered and the task says ``stopped``; only when nobody else
    handles SIGTERM, and only from the main thread (where handlers can be set)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_term(signum: int, frame: Any) -> None:
        task = Task._current
        if task is not None and task._run is not None and task._run.status is None:
            task._run.status = ("stopped", "terminated by SIGTERM")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)


def _at_exit() -> None:
    task = Task._current
    if task is not None:
        try:
            task.close()
        except Exception as exc:  # noqa: BLE001 - never turn exit into a crash
            from hydratrack.sdk.sender import warn

            warn(f"closing the task failed: {type(exc).__name__}: {exc}")

"""CLI commands: ``hydratrack agent`` (runs queued tasks) and ``hydratrack rerun TASK_ID``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.agent.runner import TaskRunner
    from hydratrack.client import ApiClient

DEFAULT_WORKDIR = "~/.hydratrack/agent"


def _parts(workdir: str, grace: float, venv: bool, echo: bool) -> tuple[ApiClient, TaskRunner]:
    from hydratrack.agent.interpreter import Interpreter
    from hydratrack.agent.runner import TaskRunner
    from hydratrack.agent.workspace import Workspace
    from hydratrack.client import ApiClient
    from hydratrack.client.config import load_client_config

    cfg = load_client_config()
    if not cfg.has_credentials:
        raise RuntimeError(
            "no API credentials: set HYDRATRACK_ACCESS_KEY/HYDRATRACK_SECRET_KEY or "
            "start `hydratrack server` once to write ~/.hydratrack/config.toml"
        )
    api = ApiClient(config=cfg)
    client_env = {
        "HYDRATRACK_API_HOST": cfg.api_host,
        "HYDRATRACK_ACCESS_KEY": str(cfg.access_key),
        "HYDRATRACK_SECRET_KEY": str(cfg.secret_key),
    }
    workspace = Workspace(Path(workdir).expanduser())
    interpreter = Interpreter()
    if venv:
        from hydratrack.agent.venv import VenvCache

        interpreter = VenvCache(workspace.root / "venvs")
    runner = TaskRunner(
        api,
        workspace,
        interpreter=interpreter,
        client_env=client_env,
        grace=grace,
        echo=_echo if echo else None,
    )
    return api, runner


def _echo(stream: str, text: str) -> None:
    out = sys.stderr if stream == "stderr" else sys.stdout
    out.write(text)
    out.flush()


def agent(
    queue: Annotated[
        list[str],
        typer.Option(
            "--queue", "-q", help="Queue to serve (repeat for several, first = highest priority)."
        ),
    ] = ["default"],  # noqa: B006
    venv: Annotated[
        bool,
        typer.Option(
            "--venv",
            help="Run each task in a venv built from its recorded packages (cached by their hash).",
        ),
    ] = False,
    workdir: Annotated[
        str, typer.Option("--workdir", help="Where clones, checkouts, venvs and edit files go.")
    ] = DEFAULT_WORKDIR,
    name: Annotated[
        Optional[str], typer.Option("--name", help="Worker name (default host:pid).")
    ] = None,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", help="Long-poll time of one claim.")
    ] = 20.0,
    heartbeat_seconds: Annotated[
        float,
        typer.Option(
            "--heartbeat-seconds",
            help="Seconds between heartbeats (keep well under the server's lease).",
        ),
    ] = 5.0,
    grace_seconds: Annotated[
        float,
        typer.Option("--grace-seconds", help="After SIGTERM, seconds before SIGKILL on abort."),
    ] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="Stop after one task.")] = False,
    echo: Annotated[
        bool, typer.Option("--echo/--no-echo", help="Also print the tasks' console here.")
    ] = False,
) -> None:
    """Run queued tasks, one at a time. Ctrl-C drains (twice: aborts the running task)."""
    from hydratrack.agent.daemon import Agent, AgentSettings, configure_logging

    configure_logging()
    api, runner = _parts(workdir, grace_seconds, venv, echo)
    settings = AgentSettings(
        queues=list(queue),
        workdir=Path(workdir).expanduser(),
        poll_seconds=poll_seconds,
        heartbeat_seconds=heartbeat_seconds,
        grace_seconds=grace_seconds,
        once=once,
    )
    if name:
        settings.name = name
    raise typer.Exit(Agent(api, runner, settings).run())


def rerun(
    task_id: Annotated[str, typer.Argument(help="The task to run again (it is cloned first).")],
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the new task.")] = None,
    workdir: Annotated[
        str, typer.Option("--workdir", help="Where clones, checkouts and edit files go.")
    ] = DEFAULT_WORKDIR,
    venv: Annotated[
        bool, typer.Option("--venv", help="Run in a venv built from the recorded packages.")
    ] = False,
) -> None:
    """Run a task here, with its recorded code, argv and edits (a new task, parent = source)."""
    from hydratrack.agent.daemon import configure_logging
    from hydratrack.agent.rerun import rerun as run_again

    configure_logging()
    api, runner = _parts(workdir, 10.0, venv, True)
    signal.signal(signal.SIGINT, lambda *_: runner.abort("interrupted (Ctrl-C)"))
    task = run_again(api, runner, task_id, name=name)
    print(f"task {task['id']} {task['status']}", file=sys.stderr)
    raise typer.Exit(0 if task["status"] == "completed" else 1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("agent")(agent)
    app.command("rerun")(rerun)

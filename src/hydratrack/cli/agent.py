"""CLI commands: ``hydratrack agent`` (flags from agent/settings.py) and ``hydratrack rerun``."""

from __future__ import annotations

import inspect
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from hydratrack.agent.settings import SETTINGS, AgentSettings
from hydratrack.names import API_HOST_ENV

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.agent.runner import TaskRunner
    from hydratrack.client import ApiClient


def _parts(settings: AgentSettings) -> tuple[ApiClient, TaskRunner]:
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
    # a task's process gets the API host and a token of its own task, never these keys
    client_env = {API_HOST_ENV: cfg.api_host}
    workspace = Workspace(settings.workdir_path)
    interpreter = Interpreter()
    if settings.venv:
        from hydratrack.agent.venv import VenvCache

        interpreter = VenvCache(workspace.root / "venvs")
    runner = TaskRunner(
        api,
        workspace,
        interpreter=interpreter,
        client_env=client_env,
        grace=settings.grace_seconds,
        echo=_echo if settings.echo else None,
    )
    return api, runner


def _echo(stream: str, text: str) -> None:
    out = sys.stderr if stream == "stderr" else sys.stdout
    out.write(text)
    out.flush()


def _run_agent(**values: Any) -> None:
    from hydratrack.agent.daemon import Agent, configure_logging

    settings = AgentSettings(**values)
    configure_logging()
    api, runner = _parts(settings)
    raise typer.Exit(Agent(api, runner, settings).run())


def _agent_command() -> Any:
    params = []
    for s in SETTINGS:
        flags = [s.flag, "-q"] if s.name == "queue" else [s.flag]
        option = typer.Option(s.default, *flags, help=s.help, envvar=s.env)
        params.append(
            inspect.Parameter(
                s.name, inspect.Parameter.KEYWORD_ONLY, annotation=s.type, default=option
            )
        )

    def agent(**values: Any) -> None:
        """Run queued tasks, one at a time. Ctrl-C drains (twice: aborts the running task)."""
        _run_agent(**values)

    agent.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return agent


def rerun(
    task_id: Annotated[str, typer.Argument(help="The task to run again (it is cloned first).")],
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the new task.")] = None,
    workdir: Annotated[
        str, typer.Option("--workdir", help="Where clones, checkouts and edit files go.")
    ] = AgentSettings.workdir,
    venv: Annotated[
        bool, typer.Option("--venv", help="Run in a venv built from the recorded packages.")
    ] = False,
) -> None:
    """Run a task here, with its recorded code, argv and edits (a new task, parent = source)."""
    from hydratrack.agent.daemon import configure_logging
    from hydratrack.agent.rerun import rerun as run_again

    configure_logging()
    api, runner = _parts(AgentSettings(workdir=workdir, venv=venv, echo=True))
    signal.signal(signal.SIGINT, lambda *_: runner.abort("interrupted (Ctrl-C)"))
    task = run_again(api, runner, task_id, name=name)
    print(f"task {task['id']} {task['status']}", file=sys.stderr)
    raise typer.Exit(0 if task["status"] == "completed" else 1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("agent")(_agent_command())
    app.command("rerun")(rerun)


__all__ = ["register", "Path"]

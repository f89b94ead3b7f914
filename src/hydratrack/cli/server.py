"""``hydratrack server``: flags are made from the settings table (server/settings.py)."""

from __future__ import annotations

import inspect
from typing import Any

import typer

from hydratrack.server.settings import SETTINGS, ServerSettings


def _run(**values: Any) -> None:
    from hydratrack.server.runner import serve

    serve(ServerSettings.from_values(**values))


def _command() -> Any:
    params = [
        inspect.Parameter(
            s.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=s.type,
            default=typer.Option(s.default, s.flag, help=s.help, envvar=s.env),
        )
        for s in SETTINGS
    ]

    def server(**values: Any) -> None:
        """Run the hydratrack server (API and web UI)."""
        _run(**values)

    server.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return server


def register(app: typer.Typer) -> None:
    """Add ``hydratrack server`` to the main app."""
    app.command("server")(_command())

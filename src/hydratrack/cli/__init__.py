"""The ``hydratrack`` command. Thin: each module parses its commands and calls the parts.

Errors are one line on stderr (exit code 1); set ``HYDRATRACK_DEBUG=1`` for the traceback.
"""

from __future__ import annotations

import os
import sys

import typer

from hydratrack.cli import admin, agent, audit, backup, queues, server, sync, tasks
from hydratrack.names import DEBUG_ENV

app = typer.Typer(
    name="hydratrack",
    help="Self-hosted experiment manager for Hydra applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Self-hosted experiment manager for Hydra applications."""


for module in (server, admin, tasks, queues, sync, agent, backup, audit):
    module.register(app)


def main() -> None:
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # one clear line, trace on request
        if os.environ.get(DEBUG_ENV):
            raise
        from hydratrack.cli.output import error_line

        sys.exit(error_line(exc))

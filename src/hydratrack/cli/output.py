"""Shared CLI output: one-line errors (with a hint for the usual causes), JSON, rich tables."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Sequence

_CREDENTIALS_HINT = (
    "check HYDRATRACK_ACCESS_KEY / HYDRATRACK_SECRET_KEY or ~/.hydratrack/config.toml "
    "(make a key pair with `hydratrack keys create` or in the web UI)"
)
_UNREACHABLE_HINT = (
    "is `hydratrack server` running? The address comes from HYDRATRACK_API_HOST "
    "or ~/.hydratrack/config.toml"
)


def error_message(exc: BaseException) -> str:
    """The one line shown for an error: the error itself plus, for API errors, what to try."""
    from hydratrack.client.api import ApiError, ServerUnreachable

    message = " ".join((str(exc) or type(exc).__name__).split())
    if isinstance(exc, ServerUnreachable):
        return f"{message} ({_UNREACHABLE_HINT})"
    if isinstance(exc, ApiError) and exc.status == 401:
        from hydratrack.client.config import load_client_config

        if not load_client_config().has_credentials:
            return (
                f"no API credentials are configured ({message}); set HYDRATRACK_ACCESS_KEY "
                "and HYDRATRACK_SECRET_KEY, or use ~/.hydratrack/config.toml (written by "
                "`hydratrack server` on its first start for the user who started it)"
            )
        return f"the server refused the API credentials: {message}; {_CREDENTIALS_HINT}"
    return message


def error_line(exc: BaseException) -> int:
    print(f"hydratrack: error: {error_message(exc)}", file=sys.stderr)
    return 1


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def _console() -> Any:
    """A rich console; when piped (no terminal, no COLUMNS) wide enough not to fold ids."""
    from rich.console import Console

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=200 if piped else None)


def _cell(value: Any) -> Any:
    """Values as literal text: ``[relu, gelu]`` must not be read as rich markup."""
    from rich.text import Text

    return Text("" if value is None else str(value))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=_cell(title) if title else None)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    _console().print(table)


def print_fields(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """A two-column key/value block (used by ``show``)."""
    from rich.table import Table

    table = Table(title=_cell(title), show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in fields:
        table.add_row(_cell(key), _cell(value))
    _console().print(table)


def print_text(title: str, text: str) -> None:
    """A titled block of verbatim text (YAML, console); no markup interpretation."""
    from rich.text import Text

    console = _console()
    console.rule(Text(title))
    console.print(Text(text.rstrip("\n")))


def short_time(value: str | None) -> str:
    """``2026-11-29T05:00:00.123456Z`` -> ``2026-11-29 05:00:00``."""
    if not value:
        return ""
    return value.replace("T", " ")[:19]

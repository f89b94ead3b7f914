"""Shared CLI output helpers: one-line errors, JSON or rich tables."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence


def error_line(exc: BaseException) -> int:
    message = str(exc) or type(exc).__name__
    print(f"hydratrack: error: {message}", file=sys.stderr)
    return 1


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)

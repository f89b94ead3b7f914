"""``hydratrack sync``: upload spooled runs (offline, or made while the server was down)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

SpoolDir = Annotated[
    Path | None,
    typer.Option(
        "--spool-dir",
        help="Spool to upload (default $HYDRATRACK_SPOOL_DIR or ~/.hydratrack/spool).",
    ),
]
TaskIds = Annotated[list[str] | None, typer.Option("--task", help="Only these task ids.")]
ListOnly = Annotated[bool, typer.Option("--list", help="Show what is waiting; upload nothing.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("sync")(sync)


def sync(spool_dir: SpoolDir = None, task: TaskIds = None, list_only: ListOnly = False) -> None:
    """Upload spooled runs to the server, with a progress bar. Each op is sent once.
    Exits non-zero when anything is left in the spool (unreachable server, refused ops,
    runs still being written)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hydratrack.sdk.spool import replay, spool_root, spooled_tasks
    from hydratrack.sdk.transport import HttpTransport, Unauthorized, Unavailable

    root = spool_dir or spool_root()
    console = Console(stderr=True)
    waiting = [t for t in spooled_tasks(root) if (not task or t.task_id in task)]
    busy = [t for t in waiting if t.active_pid() is not None]
    todo = [(t, t.pending()) for t in waiting if t.active_pid() is None]
    todo = [(t, n) for t, n in todo if n > 0]
    for t in busy:
        console.print(f"skipping task {t.task_id}: still being written by process {t.active_pid()}")
    if list_only:
        for t, n in todo:
            print(f"{t.task_id}\t{n} ops\t{t.path}")
        return
    if not todo:
        console.print(f"nothing to sync in {root}")
        _left_behind(busy)
        return
    transport = HttpTransport.from_config(timeout=60.0)
    total = sum(n for _, n in todo)
    rejected: list[str] = []
    done_tasks = 0
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        ) as progress:
            bar = progress.add_task(f"syncing {len(todo)} task(s)", total=total)
            for spooled, _ in todo:
                progress.update(bar, description=f"task {spooled.task_id[:8]}")
                result = replay(spooled, transport, on_op=lambda op: progress.advance(bar))
                rejected += result.rejected
                done_tasks += 1
    except Unauthorized as exc:
        raise RuntimeError(
            f"the server at {transport.api_host} rejected the API credentials "
            f"({exc}); nothing more was sent, run sync again when fixed"
        ) from exc
    except Unavailable as exc:
        raise RuntimeError(
            f"{exc}; {done_tasks} of {len(todo)} task(s) synced, "
            "the rest stays spooled (run sync again)"
        ) from exc
    finally:
        transport.close()
    for line in rejected:
        console.print(f"[red]refused[/red]: {line}")
    console.print(f"synced {done_tasks} task(s), {total} op(s) to {transport.api_host}")
    if rejected:
        raise RuntimeError(
            f"{len(rejected)} op(s) were refused by the server (kept in "
            "rejected.jsonl of their spool directory)"
        )
    _left_behind(busy)


def _left_behind(busy: list[Any]) -> None:
    """Exit non-zero when a spooled run could not be uploaded (still being written)."""
    if busy:
        raise RuntimeError(
            f"{len(busy)} task(s) left in the spool (still being written); run sync again"
        )

"""``hydratrack queues …`` and ``workers list``: queues, their lost-worker policy, workers.

A queue's lost-worker policy says what happens to a task whose agent stopped sending
heartbeats: ``fail`` (default) or ``requeue`` up to ``--retries`` times (docs/server.md
"Lost workers").
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hydratrack.cli.output import print_json, print_table, short_time

if TYPE_CHECKING:
    from hydratrack.client.api import ApiClient

queues_app = typer.Typer(
    help="List, create, update and delete queues (and their lost-worker policy).",
    no_args_is_help=True,
)
workers_app = typer.Typer(help="List workers (agents).", no_args_is_help=True)


class Policy(str, Enum):
    fail = "fail"
    requeue = "requeue"


Json = Annotated[
    bool, typer.Option("--json", help="Print JSON (the API's objects) instead of a table.")
]
QueueName = Annotated[str, typer.Argument(help="Queue name (or id).")]
PolicyOpt = Annotated[
    Policy | None,
    typer.Option(
        "--lost-worker",
        help="What happens to a task whose worker is lost: fail, or requeue (see --retries).",
    ),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--retries", min=0, max=100, help="With requeue: how many times a lost task is re-queued."
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``queues`` and ``workers`` to the main app."""
    app.add_typer(queues_app, name="queues")
    app.add_typer(workers_app, name="workers")


def _client() -> "ApiClient":
    from hydratrack.client.api import ApiClient

    return ApiClient()


def _policy(lost_worker: Policy | None, retries: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if lost_worker is not None:
        out["lost_worker_policy"] = lost_worker.value
    if retries is not None:
        out["lost_worker_retries"] = retries
    return out


def _describe(queue: dict[str, Any]) -> str:
    if queue.get("lost_worker_policy") == "requeue":
        return f"requeue (up to {queue.get('lost_worker_retries', 0)} times)"
    return "fail"


def _report(queue: dict[str, Any], what: str, json_out: bool) -> None:
    if json_out:
        print_json(queue)
    else:
        print(f"{what} queue {queue['name']}: lost worker -> {_describe(queue)}")


@queues_app.command("list")
def queues_list(json_out: Json = False) -> None:
    """List queues: waiting tasks and lost-worker policy."""
    with _client() as api:
        data = api.list_queues()
    if json_out:
        print_json(data)
        return
    rows = [(q["name"], q["length"], _describe(q), q["id"]) for q in data["items"]]
    print_table(f"queues ({len(rows)})", ["name", "waiting", "lost worker", "id"], rows)


@queues_app.command("create")
def queues_create(
    name: QueueName,
    lost_worker: PolicyOpt = None,
    retries: RetriesOpt = None,
    json_out: Json = False,
) -> None:
    """Make a queue (lost-worker policy: fail unless --lost-worker requeue)."""
    with _client() as api:
        _report(api.create_queue(name, **_policy(lost_worker, retries)), "created", json_out)


@queues_app.command("update")
def queues_update(
    name: QueueName,
    lost_worker: PolicyOpt = None,
    retries: RetriesOpt = None,
    json_out: Json = False,
) -> None:
    """Change a queue's lost-worker policy."""
    policy = _policy(lost_worker, retries)
    if not policy:
        raise typer.BadParameter("give --lost-worker and/or --retries", param_hint="options")
    with _client() as api:
        _report(api.update_queue(name, **policy), "updated", json_out)


@queues_app.command("delete")
def queues_delete(name: QueueName) -> None:
    """Delete an empty queue."""
    with _client() as api:
        api.delete_queue(name)
    print(f"deleted queue {name}")


@workers_app.command("list")
def workers_list(json_out: Json = False) -> None:
    """List workers: their queues, running task and last heartbeat (workers gone longer
    than the server's --worker-gone-seconds are not listed)."""
    with _client() as api:
        data = api.list_workers()
    if json_out:
        print_json(data)
        return
    rows = [
        (
            w["name"],
            ", ".join(w["queues"]),
            (w.get("task") or {}).get("id", ""),
            short_time(w.get("last_heartbeat")),
            w["id"],
        )
        for w in data["items"]
    ]
    print_table(f"workers ({len(rows)})", ["name", "queues", "task", "last heartbeat", "id"], rows)

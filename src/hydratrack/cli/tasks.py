"""``hydratrack tasks …`` and ``hydratrack projects list``: read and steer tasks over the REST API.

Every read takes ``--json`` (the API's own objects, for scripts); otherwise rich tables.
``tasks diff A B`` compares the ``Hydra``-style hyperparameters entry by entry and the
configuration objects key by key (YAML/OmegaConf objects are compared as dotted keys,
interpolations kept as written).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Iterator

import typer

from hydratrack.cli.output import (
    print_fields,
    print_json,
    print_table,
    print_text,
    short_time,
)

if TYPE_CHECKING:
    from hydratrack.client.api import ApiClient

tasks_app = typer.Typer(
    help="List, show, clone, enqueue, dequeue, abort and diff tasks.", no_args_is_help=True
)
projects_app = typer.Typer(help="List projects; grant and revoke access.", no_args_is_help=True)

Json = Annotated[
    bool, typer.Option("--json", help="Print JSON (the API's objects) instead of a table.")
]
TaskId = Annotated[str, typer.Argument(help="Task id (32 hex characters).")]
MISSING = "(absent)"
_CONFIG_TYPES = ("omegaconf", "yaml")


def register(app: typer.Typer) -> None:
    """Add ``tasks`` and ``projects`` to the main app."""
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(projects_app, name="projects")


def _client() -> "ApiClient":
    from hydratrack.client.api import ApiClient

    return ApiClient()


# -- projects ---------------------------------------------------------------------
@projects_app.command("list")
def projects_list(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only names containing this.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    json_out: Json = False,
) -> None:
    """List projects with their task counts."""
    with _client() as api:
        data = api.list_projects(q=query, limit=limit)
    if json_out:
        print_json(data)
        return
    rows = [
        (p["name"], p.get("task_count"), short_time(p.get("last_activity")), p["id"])
        for p in data["items"]
    ]
    print_table(
        f"projects ({len(rows)} of {data['total']})", ["name", "tasks", "last activity", "id"], rows
    )


# -- tasks: reads -----------------------------------------------------------------
@tasks_app.command("list")
def tasks_list(
    project: Annotated[str | None, typer.Option("--project", "-p", help="Project name.")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Only this status (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only names containing this.")] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="List archived tasks instead.")
    ] = False,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="At most this many (newest first).")
    ] = 50,
    json_out: Json = False,
) -> None:
    """List tasks, newest first."""
    if status:
        from hydratrack.status import TaskStatus

        allowed = [s.value for s in TaskStatus]
        bad = [s for s in status if s not in allowed]
        if bad:
            raise typer.BadParameter(
                f"unknown status {bad[0]!r}; one of {', '.join(allowed)}", param_hint="--status"
            )
    with _client() as api:
        data = api.list_tasks(
            project=project, status=status, name=name, archived=archived, limit=limit
        )
    if json_out:
        print_json(data)
        return
    rows = [
        (
            t["id"],
            t["project"]["name"],
            t["name"],
            t["status"],
            short_time(t.get("created")),
            (t.get("parent") or "")[:8],
        )
        for t in data["items"]
    ]
    print_table(
        f"tasks ({len(rows)} of {data['total']})",
        ["id", "project", "name", "status", "created", "parent"],
        rows,
    )


@tasks_app.command("show")
def tasks_show(task_id: TaskId, json_out: Json = False) -> None:
    """Show one task: state, script, hyperparameters and configuration objects."""
    with _client() as api:
        task = api.get_task(task_id)
    if json_out:
        print_json(task)
        return
    script = task.get("script") or {}
    print_fields(
        f"task {task['id']}",
        [
            ("name", task["name"]),
            ("project", task["project"]["name"]),
            (
                "status",
                task["status"]
                + (f" ({task['status_message']})" if task.get("status_message") else ""),
            ),
            ("reason", task.get("status_reason") or None),
            ("parent", task.get("parent")),
            (
                "queue",
                (task.get("queue") or {}).get("name")
                if isinstance(task.get("queue"), dict)
                else task.get("queue"),
            ),
            ("created", short_time(task.get("created"))),
            ("started", short_time(task.get("started"))),
            ("completed", short_time(task.get("completed"))),
            (
                "script",
                " ".join([script.get("entry_point") or "", *script.get("argv", [])]).strip(),
            ),
            ("repository", script.get("repository")),
            ("commit", script.get("commit")),
            ("working dir", script.get("working_dir")),
        ],
    )
    rows = [
        (section, name, entry.get("value"))
        for section, entries in sorted((task.get("hyperparams") or {}).items())
        for name, entry in entries.items()
    ]
    print_table("hyperparameters", ["section", "name", "value"], rows)
    for name, obj in (task.get("configuration") or {}).items():
        print_text(f"configuration {name} ({obj.get('type', '')})", obj.get("value") or "")


# -- tasks: actions ---------------------------------------------------------------
def _report(task: dict[str, Any], verb: str, json_out: bool) -> None:
    if json_out:
        print_json(task)
    else:
        print(f"{verb} task {task['id']} ({task['name']}): now {task['status']}")


@tasks_app.command("clone")
def tasks_clone(
    task_id: TaskId,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the copy (default: the server's).")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Project of the copy (default: same).")
    ] = None,
    json_out: Json = False,
) -> None:
    """Copy a task into a new draft (script, hyperparameters, configuration; no outputs)."""
    extra = {"project": project} if project else {}
    with _client() as api:
        task = api.clone_task(task_id, name=name, **extra)
    if json_out:
        print_json(task)
    else:
        print(f"cloned {task_id} into draft {task['id']} ({task['name']})")


@tasks_app.command("enqueue")
def tasks_enqueue(
    task_id: TaskId,
    queue: Annotated[str, typer.Option("--queue", "-q", help="Queue name or id.")] = "default",
    json_out: Json = False,
) -> None:
    """Put a draft task on a queue for an agent to run."""
    with _client() as api:
        _report(api.enqueue_task(task_id, queue=queue), f"enqueued on {queue!r}:", json_out)


@tasks_app.command("dequeue")
def tasks_dequeue(task_id: TaskId, json_out: Json = False) -> None:
    """Take a queued task off its queue (back to draft)."""
    with _client() as api:
        _report(api.dequeue_task(task_id), "dequeued", json_out)


@tasks_app.command("abort")
def tasks_abort(
    task_id: TaskId,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (stored with the task).")
    ] = None,
    json_out: Json = False,
) -> None:
    """Stop a queued or running task (a running one is ended by its agent)."""
    with _client() as api:
        task = api.abort_task(task_id, reason=reason)
    if json_out:
        print_json(task)
    elif task.get("abort_requested") and task["status"] == "in_progress":
        print(f"abort requested for task {task['id']} ({task['name']}): its agent will stop it")
    else:
        _report(task, "aborted", False)


# -- tasks: diff ------------------------------------------------------------------
def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from _flatten(sub, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _config_keys(text: str) -> dict[str, Any] | None:
    """Dotted keys of a YAML/OmegaConf object, interpolations as written; None if it won't parse."""
    from omegaconf import OmegaConf

    try:
        container = OmegaConf.to_container(OmegaConf.create(text or "{}"), resolve=False)
    except Exception:  # not YAML, or not a mapping: compared as text instead
        return None
    return dict(_flatten(container)) if isinstance(container, dict) else None


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        (key, a.get(key, MISSING), b.get(key, MISSING))
        for key in sorted(set(a) | set(b))
        if a.get(key, MISSING) != b.get(key, MISSING)
    ]


def hyperparam_diff(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries whose value differs, was added or was removed, per section."""
    out = []
    for section in sorted(set(a) | set(b)):
        va = {k: v.get("value") for k, v in (a.get(section) or {}).items()}
        vb = {k: v.get("value") for k, v in (b.get(section) or {}).items()}
        out += [{"section": section, "name": k, "a": x, "b": y} for k, x, y in _changes(va, vb)]
    return out


def configuration_diff(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Per configuration object: changed dotted keys (YAML types) or whole text otherwise."""
    out = []
    for name in sorted(set(a) | set(b)):
        oa, ob = a.get(name), b.get(name)
        if oa is None or ob is None:
            out.append(
                {
                    "object": name,
                    "key": "",
                    "a": MISSING if oa is None else "(present)",
                    "b": MISSING if ob is None else "(present)",
                }
            )
            continue
        ta, tb = oa.get("value") or "", ob.get("value") or ""
        yaml_types = {str(oa.get("type", "")).lower(), str(ob.get("type", "")).lower()}
        ka = _config_keys(ta) if yaml_types <= set(_CONFIG_TYPES) else None
        kb = _config_keys(tb) if ka is not None else None
        if ka is None or kb is None:
            if ta != tb:
                out.append({"object": name, "key": "", "a": ta, "b": tb})
            continue
        out += [{"object": name, "key": k, "a": x, "b": y} for k, x, y in _changes(ka, kb)]
    return out


@tasks_app.command("diff")
def tasks_diff(
    task_a: Annotated[str, typer.Argument(help="First task id.")],
    task_b: Annotated[str, typer.Argument(help="Second task id.")],
    json_out: Json = False,
) -> None:
    """Show how two tasks differ: hyperparameters, then configuration (OmegaConf) keys."""
    with _client() as api:
        a, b = api.get_task(task_a), api.get_task(task_b)
    params = hyperparam_diff(a.get("hyperparams") or {}, b.get("hyperparams") or {})
    config = configuration_diff(a.get("configuration") or {}, b.get("configuration") or {})
    if json_out:
        print_json({"a": task_a, "b": task_b, "hyperparams": params, "configuration": config})
        return
    if not params and not config:
        print(f"no differences in hyperparameters or configuration between {task_a} and {task_b}")
        return
    print(f"A = {task_a} ({a['name']})\nB = {task_b} ({b['name']})")
    if params:
        print_table(
            "hyperparameters",
            ["section", "name", "A", "B"],
            [(d["section"], d["name"], d["a"], d["b"]) for d in params],
        )
    if config:
        print_table(
            "configuration",
            ["object", "key", "A", "B"],
            [(d["object"], d["key"], _show(d["a"]), _show(d["b"])) for d in config],
        )


def _show(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)

"""Hyperparameters (section/name -> value, type, description) and configuration objects."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection

from hydratrack.server.errors import NotFound
from hydratrack.server.store.models import configuration, hyperparams

PREFIX_LEN = 200
# read with every task object: built once (see store/tasks.py)
_HYPERPARAMS = (
    select(hyperparams)
    .where(hyperparams.c.task_id == bindparam("task_id_"))
    .order_by(hyperparams.c.section, hyperparams.c.position, hyperparams.c.name)
)
_CONFIGURATION = (
    select(configuration)
    .where(configuration.c.task_id == bindparam("task_id_"))
    .order_by(configuration.c.name)
)


def _entry(value: Any) -> dict[str, str]:
    """Accept ``{"value", "type"?, "description"?}`` or a bare value."""
    if isinstance(value, Mapping):
        raw = value.get("value")
        return {
            "value": "" if raw is None else str(raw),
            "type": str(value.get("type") or "str"),
            "description": str(value.get("description") or ""),
        }
    return {"value": "" if value is None else str(value), "type": "str", "description": ""}


def get_hyperparams(conn: Connection, task_id: str) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    rows = conn.execute(_HYPERPARAMS, {"task_id_": task_id})
    for r in rows:
        out.setdefault(r.section, {})[r.name] = {
            "value": r.value,
            "type": r.type,
            "description": r.description,
        }
    return out


def _insert(
    conn: Connection,
    task_id: str,
    section: str,
    items: list[tuple[str, dict[str, str]]],
    start: int,
) -> None:
    if items:
        conn.execute(
            hyperparams.insert(),
            [
                {
                    "task_id": task_id,
                    "section": section,
                    "name": name,
                    "position": start + i,
                    "value_prefix": e["value"][:PREFIX_LEN],
                    **e,
                }
                for i, (name, e) in enumerate(items)
            ],
        )


def put_section(conn: Connection, task_id: str, section: str, entries: Mapping[str, Any]) -> None:
    """Replace a whole section (entry order kept)."""
    conn.execute(
        delete(hyperparams).where(
            hyperparams.c.task_id == task_id, hyperparams.c.section == section
        )
    )
    _insert(
        conn, task_id, section, [(n, _entry(v)) for n, v in entries.items() if v is not None], 0
    )


def add_section(
    conn: Connection, task_id: str, section: str, entries: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """Store the section of a new task (nothing to replace); returns it as read back."""
    items = [(n, _entry(v)) for n, v in entries.items() if v is not None]
    _insert(conn, task_id, section, items, 0)
    return dict(items)


def patch_hyperparams(
    conn: Connection, task_id: str, changes: Mapping[str, Mapping[str, Any]]
) -> None:
    """Merge: an entry dict sets (missing type/description keep the stored ones), None deletes.

    A changed entry keeps its position, new ones go last: overrides stay in typed order.
    """
    for section, entries in changes.items():
        stored = {
            r.name: r
            for r in conn.execute(
                select(hyperparams).where(
                    hyperparams.c.task_id == task_id, hyperparams.c.section == section
                )
            )
        }
        next_pos = max((r.position for r in stored.values()), default=-1) + 1
        for name, value in entries.items():
            old = stored.get(name)
            if old is not None:
                conn.execute(
                    delete(hyperparams).where(
                        hyperparams.c.task_id == task_id,
                        hyperparams.c.section == section,
                        hyperparams.c.name == name,
                    )
                )
            if value is None:
                continue
            entry = _entry(value)
            if old is not None and isinstance(value, Mapping):
                if not value.get("type"):
                    entry["type"] = old.type
                if value.get("description") is None:
                    entry["description"] = old.description
            pos = old.position if old is not None else next_pos
            if old is None:
                next_pos += 1
            _insert(conn, task_id, section, [(name, entry)], pos)


def get_configuration(conn: Connection, task_id: str) -> dict[str, dict[str, str]]:
    rows = conn.execute(_CONFIGURATION, {"task_id_": task_id})
    return {r.name: {"value": r.value, "type": r.type, "description": r.description} for r in rows}


def _config_entry(obj: Any) -> dict[str, str]:
    if isinstance(obj, Mapping):
        return {
            "value": str(obj.get("value") or ""),
            "type": str(obj.get("type") or ""),
            "description": str(obj.get("description") or ""),
        }
    return {"value": "" if obj is None else str(obj), "type": "", "description": ""}


def add_configurations(
    conn: Connection, task_id: str, objects: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """Store the configuration objects of a new task; returns them as read back."""
    out = {name: _config_entry(objects[name]) for name in sorted(objects)}
    if out:
        conn.execute(
            configuration.insert(),
            [{"task_id": task_id, "name": name, **e} for name, e in out.items()],
        )
    return out


def put_configuration(conn: Connection, task_id: str, name: str, obj: Any) -> dict[str, str]:
    entry = _config_entry(obj)
    conn.execute(
        delete(configuration).where(
            configuration.c.task_id == task_id, configuration.c.name == name
        )
    )
    conn.execute(configuration.insert().values(task_id=task_id, name=name, **entry))
    return entry


def delete_configuration(conn: Connection, task_id: str, name: str) -> None:
    res = conn.execute(
        delete(configuration).where(
            configuration.c.task_id == task_id, configuration.c.name == name
        )
    )
    if res.rowcount == 0:
        raise NotFound("configuration object", f"{name} of task {task_id}")


def copy_all(conn: Connection, src: str, dst: str) -> None:
    hp = [
        dict(r._mapping, task_id=dst)
        for r in conn.execute(select(hyperparams).where(hyperparams.c.task_id == src))
    ]
    if hp:
        conn.execute(hyperparams.insert(), hp)
    cfg = [
        dict(r._mapping, task_id=dst)
        for r in conn.execute(select(configuration).where(configuration.c.task_id == src))
    ]
    if cfg:
        conn.execute(configuration.insert(), cfg)

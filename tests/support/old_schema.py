"""Rows written with the SQL of the first schema (0001), for upgrade tests: today's store
code writes columns that later migrations add, so it cannot fill an old database."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

NOW = "2026-11-01 10:00:00"


def old_user_and_task(conn: Connection, hydra_db: str | None = None) -> tuple[str, str]:
    """User ``old`` and its draft task ``old run`` in project ``p``; ids (user, task).
    ``hydra_db``: also a ``Hydra/db`` hyperparameter with this value."""
    uid, tid = "u" * 32, "t" * 32
    conn.execute(
        text(
            "INSERT INTO users (id, name, password_hash, is_admin, created)"
            " VALUES (:u, 'old', 'x', false, :now)"
        ),
        {"u": uid, "now": NOW},
    )
    conn.execute(
        text("INSERT INTO projects (id, name, description, created) VALUES ('p', 'p', '', :now)"),
        {"now": NOW},
    )
    conn.execute(
        text(
            "INSERT INTO tasks (id, name, type, project_id, status, status_message,"
            " status_reason, user_id, tags, comment, archived, created, last_update,"
            " abort_requested, script, runtime, console_seq) VALUES (:t, 'old run',"
            " 'training', 'p', 'draft', '', '', :u, '[]', '', false, :now, :now, false,"
            " '{}', '{}', -1)"
        ),
        {"t": tid, "u": uid, "now": NOW},
    )
    if hydra_db is not None:
        conn.execute(
            text(
                "INSERT INTO hyperparams (task_id, section, name, value, type, description,"
                " position, value_prefix) VALUES (:t, 'Hydra', 'db', :v, 'str', '', 0, :p)"
            ),
            {"t": tid, "v": hydra_db, "p": hydra_db},
        )
    return uid, tid

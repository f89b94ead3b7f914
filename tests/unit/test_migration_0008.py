"""Migration 0008 on a database with data: admins keep their rights, existing projects get
the user of their first task as owner, keys stay personal keys."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text

from hydratrack.server.store.db import Database, normalize_url
from hydratrack.server.store.migration import upgrade
from tests.support import servers

BACKENDS = ["sqlite"] + (["postgresql"] if servers.requested_db_url() else [])
NOW = "2026-12-01 10:00:00"


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        servers.create_pg_database(str(servers.requested_db_url()))
        if request.param != "sqlite"
        else None
    )
    database = Database(normalize_url(url or "", tmp_path))
    try:
        yield database
    finally:
        database.dispose()
        if url:
            servers.drop_pg_database(url)


def test_upgrade_keeps_admins_and_gives_projects_their_first_users(db: Database) -> None:
    upgrade(db.engine, "0007")
    with db.engine.begin() as conn:
        for uid, name, admin in (("a" * 32, "root", True), ("b" * 32, "bob", False)):
            conn.execute(
                text(
                    "INSERT INTO users (id, name, password_hash, is_admin, created)"
                    " VALUES (:i, :n, 'x', :a, :t)"
                ),
                {"i": uid, "n": name, "a": admin, "t": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO api_keys (access_key, secret_hash, user_id, label, created)"
                " VALUES ('K', 'h', :u, '', :t)"
            ),
            {"u": "b" * 32, "t": NOW},
        )
        for pid in ("p1", "p2"):
            conn.execute(
                text(
                    "INSERT INTO projects (id, name, description, created) VALUES (:i, :i, '', :t)"
                ),
                {"i": pid, "t": NOW},
            )
        for tid, user, created in (("t1", "b" * 32, NOW), ("t2", "a" * 32, "2026-12-02 10:00:00")):
            conn.execute(
                text(
                    "INSERT INTO tasks (id, name, type, project_id, status, status_message,"
                    " status_reason, user_id, tags, comment, archived, created, last_update,"
                    " abort_requested, script, runtime, console_seq) VALUES (:i, 'n', 'training',"
                    " 'p1', 'draft', '', '', :u, '[]', '', false, :c, :c, false, '{}', '{}', -1)"
                ),
                {"i": tid, "u": user, "c": created},
            )
    upgrade(db.engine)
    with db.engine.connect() as conn:
        roles = dict(conn.execute(text("SELECT name, role FROM users")).all())
        owners = dict(conn.execute(text("SELECT id, owner_id FROM projects")).all())
        scope = conn.execute(text("SELECT scope FROM api_keys")).scalar()
        access = conn.execute(
            text("SELECT count(*) FROM queues WHERE access <> 'members'")
        ).scalar()
    assert roles == {"root": "admin", "bob": "member"}
    assert owners == {"p1": "b" * 32, "p2": None}  # p1: bob made its first task
    assert scope == "user" and access == 0

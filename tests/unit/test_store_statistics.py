"""The SQLite store keeps planner statistics: gathered at migration, refreshed on demand."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from hydratrack.server.store.db import Database


def test_migrate_gathers_statistics_and_optimize_runs(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        db.migrate()
        with db.read() as conn:
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'"))
            assert found.scalar_one() == "sqlite_stat1"
        db.optimize()  # incremental form: must not fail on a migrated store
        db.optimize(full=True)
    finally:
        db.dispose()

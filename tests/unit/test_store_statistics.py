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


def test_hourly_maintenance_drops_expired_logins_and_refreshes_statistics(tmp_path: Path) -> None:
    """The sweeper's hourly step: expired login links go, live ones stay, statistics refresh."""
    import datetime as dt
    import types

    from hydratrack.server.lease import hourly_maintenance
    from hydratrack.server.store import users as users_repo
    from hydratrack.server.store.models import login_tokens

    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        db.migrate()
        with db.write() as conn:
            user = users_repo.create_user(conn, "ada", "a-long-password")
            old = users_repo.create_login_token(conn, user["id"])
            live = users_repo.create_login_token(conn, user["id"])
            past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
            conn.execute(
                login_tokens.update()
                .where(login_tokens.c.token_hash == users_repo.token_hash(old))
                .values(expires=past)
            )
        hourly_maintenance(types.SimpleNamespace(db=db))  # type: ignore[arg-type]
        with db.write() as conn:
            assert users_repo.use_login_token(conn, old) is None
            assert users_repo.use_login_token(conn, live) is not None
            left = conn.execute(text("SELECT count(*) FROM login_tokens")).scalar_one()
        assert left == 1
    finally:
        db.dispose()

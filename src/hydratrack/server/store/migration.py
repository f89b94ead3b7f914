"""Alembic, run programmatically: no ``alembic.ini`` is needed in the working dir.

``upgrade(engine)`` brings any database (empty or older) to the newest schema; on
PostgreSQL an advisory lock keeps several starting server processes from racing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = 72_011_902  # any constant; shared by all hydratrack servers


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """On SQLite, foreign keys are off while migrations run: a batch migration rebuilds a
    table (create, copy, drop, rename), and dropping a parent table with foreign keys on
    would cascade its ON DELETE actions to every child row (all API keys, sessions,
    events...). They are checked once the migrations are done, then turned back on."""
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
        if sqlite:
            _sqlite_foreign_keys(conn, False)
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows without their parents: {broken[:5]}")
        finally:
            if sqlite:
                conn.rollback()
                _sqlite_foreign_keys(conn, True)
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()


def _sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Set SQLite's foreign key enforcement on this connection (outside a transaction: the
    pragma is a no-op inside one, and the store begins one on every SQLAlchemy execute)."""
    conn.commit()
    raw: Any = conn.connection.dbapi_connection
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest schema revision this package ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

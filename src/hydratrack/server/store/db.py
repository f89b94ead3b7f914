"""Database access: one engine, reads and serialized writes, migrations at start.

SQLite (default, ``<data-dir>/hydratrack.db``) runs in WAL mode with foreign keys on
and a busy timeout; writes take an in-process lock and ``BEGIN IMMEDIATE`` so that
writers never deadlock on lock upgrades. PostgreSQL (``postgresql://...``) is reached
through psycopg 3 and needs no lock. The repository modules next to this one take the
:class:`~sqlalchemy.engine.Connection` these context managers yield.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine


def normalize_url(url: str, data_dir: Path) -> str:
    """Empty -> SQLite in the data dir; ``postgresql://`` -> the psycopg 3 driver."""
    url = url.strip()
    if not url:
        return f"sqlite:///{data_dir / 'hydratrack.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise ValueError(
        f"unsupported database URL {url!r}: use postgresql://user@host:port/db "
        "or leave it empty for SQLite in the data dir"
    )


class _RollBack(Exception):
    """Ends a probe's transaction without keeping anything."""


def _require_psycopg() -> None:
    """PostgreSQL's driver is an extra: say which one when it is missing."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ValueError(
            "a postgresql:// database needs the PostgreSQL driver, which is not installed: "
            "pip install 'hydratrack[postgresql]'"
        ) from None


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        # enough connections for every thread of the request pool (40), so a burst of
        # requests waits for the database, never for a pooled connection
        if self.is_sqlite:
            self.engine: Engine = create_engine(url, pool_size=10, max_overflow=40)
            _configure_sqlite(self.engine)
        else:
            _require_psycopg()
            self.engine = create_engine(url, pool_size=10, max_overflow=35, pool_pre_ping=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; committed on success, rolled back on any exception."""
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock:
            with self.engine.connect() as conn:
                conn = conn.execution_options(hydratrack_write=True)
                with conn.begin():
                    yield conn

    def migrate(self) -> None:
        from hydratrack.server.store.migration import upgrade

        upgrade(self.engine)
        self.optimize(full=True)

    def optimize(self, full: bool = False) -> None:
        """Refresh the planner's table statistics.

        Without statistics SQLite may walk every task for a hyperparameter filter.
        ``full``: a sampled ``ANALYZE`` of every table (at start, well under a second on
        100k tasks); else ``PRAGMA optimize``, which re-analyzes only what changed a lot.
        PostgreSQL: ``ANALYZE`` of the tables that changed by more than a tenth since their
        last one (autovacuum's rule, applied now: a store bulk-loaded while the server was
        down is planned with its real sizes from the first request).
        """
        if not self.is_sqlite:
            with self.write() as conn:
                stale = (
                    conn.exec_driver_sql(
                        "SELECT relname FROM pg_stat_user_tables "
                        "WHERE n_mod_since_analyze > 1000 + n_live_tup / 10"
                    )
                    .scalars()
                    .all()
                )
                for table in stale:
                    conn.exec_driver_sql(f'ANALYZE "{table}"')
            return
        with self.write() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled: bounded time
            if full:
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("PRAGMA optimize")

    def write_problem(self) -> str | None:
        """Why the database cannot take a write now, or None: a write of one row (the
        migration version set to itself) in a write transaction, rolled back."""
        try:
            with self.write() as conn:  # (waits its turn behind the writes under way)
                conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
                raise _RollBack
        except _RollBack:
            return None
        except Exception as exc:  # any failure is the answer
            first = str(exc).strip().splitlines()
            return f"{type(exc).__name__}: {first[0] if first else ''}"

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hydratrack_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (use with ``escape="\\\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

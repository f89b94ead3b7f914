"""Alembic environment: uses the connection handed over by ``migration.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from hydratrack.server.store.models import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from a shell, for making new revisions
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///:memory:")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()

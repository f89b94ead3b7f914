"""Bulk inserts through the database driver's fast path, inside the caller's transaction.

SQLAlchemy's ``conn.execute(table.insert(), [dict, ...])`` spends several microseconds
per row turning dicts into parameters; for the scalar path (a million rows per run) the
rows go to the driver as plain tuples instead: ``executemany`` on SQLite, ``COPY ... FROM
STDIN`` on PostgreSQL (psycopg 3; binary format when every column is a number). Same
connection, same transaction as the rest of the request: a failed batch stores nothing.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.engine import Connection

# column types (as SQLAlchemy spells them for PostgreSQL) that binary COPY takes
_PG_BINARY = {"integer": "int4", "smallint": "int2", "bigint": "int8", "float": "float8",
              "double precision": "float8"}


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    for name in columns:  # names come from our code; checked so nothing else is ever quoted
        if name not in table.c:
            raise ValueError(f"{table.name} has no column {name!r}")
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        types = [_PG_BINARY.get(table.c[name].type.compile(dialect=conn.dialect).lower())
                 for name in columns]
        binary = None not in types  # binary COPY: no number-to-text round trip
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(sql + (" (FORMAT BINARY)" if binary else "")) as copy:
                if binary:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
                        rows)
    finally:
        cur.close()

"""Bulk inserts through the database driver's fast path, inside the caller's transaction.

SQLAlchemy's ``conn.execute(table.insert(), [dict, ...])`` spends several microseconds
per row turning dicts into parameters; for the scalar path (a million rows per run) the
rows go to the driver as plain tuples instead: ``executemany`` on SQLite, ``COPY ... FROM
STDIN`` on PostgreSQL (psycopg 3; binary format when every column is a number). Same
connection, same transaction as the rest of the request: a failed batch stores nothing.

:func:`insert_new` inserts one row unless its primary key is taken (``ON CONFLICT DO
NOTHING``, both databases): an idempotent create costs one statement, no savepoint.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

# column types (as SQLAlchemy spells them for PostgreSQL) that binary COPY takes
_PG_BINARY = {
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "float": "float8",
    "double precision": "float8",
}


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    for name in columns:  # names come from our code; checked so nothing else is ever quoted
        if name not in table.c:
            raise ValueError(f"{table.name} has no column {name!r}")
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        types = [
            _PG_BINARY.get(table.c[name].type.compile(dialect=conn.dialect).lower())
            for name in columns
        ]
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
        cur.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)
    finally:
        cur.close()


def insert_new(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row; False (and nothing written) when its primary key exists already.

    On PostgreSQL a concurrent insert of the same key makes this wait for that
    transaction: its row counts as existing once committed."""
    unknown = values.keys() - set(table.c.keys())
    if unknown:  # a prebuilt insert would skip them silently
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    postgres = conn.dialect.name == "postgresql"
    result = conn.execute(_insert_or_skip(table, postgres), values)
    return result.first() is not None if postgres else bool(result.rowcount == 1)


@functools.lru_cache(maxsize=None)
def _insert_or_skip(table: Table, postgres: bool) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``, built once per table (the values are bound at
    execution). PostgreSQL: with RETURNING, as psycopg reports rowcount -1 for it; SQLite:
    rowcount is exact (and RETURNING would need SQLite 3.35)."""
    key = list(table.primary_key.columns)
    if postgres:
        return pg_insert(table).on_conflict_do_nothing(index_elements=key).returning(*key)
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=key)

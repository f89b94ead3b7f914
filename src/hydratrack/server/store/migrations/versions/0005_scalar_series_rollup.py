"""scalar series, their points and a rollup (a downsampled copy) in place of ``scalars``

Points name their series by a small integer instead of repeating task id, metric and
variant, and are keyed by (series, iteration, arrival number): on SQLite a table
clustered by that key, one B-tree (the 1M-point ingest is bound by these inserts).
``scalar_rollup`` keeps per series, level and iteration bucket the first, minimum and
maximum point. Existing points are moved over in arrival order, and their
rollup is built here with the code the server uses at ingest.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scalar_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_scalar_series_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scalar_series")),
        sa.UniqueConstraint(
            "task_id", "metric", "variant", name=op.f("uq_scalar_series_task_id_metric_variant")
        ),
    )
    op.create_table(
        "scalar_points",
        sa.Column("series_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("iter", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "iter", "seq", name=op.f("pk_scalar_points")),
        sqlite_with_rowid=False,
    )
    _create_points_cleanup()
    op.create_table(
        "scalar_rollup",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_iter", sa.Integer(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=True),
        sa.Column("first_ts", sa.Float(), nullable=False),
        sa.Column("min_iter", sa.Integer(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("min_ts", sa.Float(), nullable=True),
        sa.Column("max_iter", sa.Integer(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("max_ts", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["scalar_series.id"],
            name=op.f("fk_scalar_rollup_series_id_scalar_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "level", "bucket", name=op.f("pk_scalar_rollup")),
    )
    op.execute(
        "INSERT INTO scalar_series (task_id, metric, variant, points) "
        "SELECT task_id, metric, variant, count(*) FROM scalars "
        "GROUP BY task_id, metric, variant"
    )
    op.execute(
        "INSERT INTO scalar_points (series_id, iter, seq, value, ts) "
        "SELECT s.id, p.iter, row_number() OVER (PARTITION BY s.id ORDER BY p.id) - 1, "
        "p.value, p.ts FROM scalars p JOIN scalar_series s ON s.task_id = p.task_id "
        "AND s.metric = p.metric AND s.variant = p.variant"
    )
    _build_rollup(op.get_bind())
    op.drop_table("scalars")


def _create_points_cleanup() -> None:
    """Points go with their series (deleted directly, or with the task through the
    foreign key of ``scalar_series``): a trigger instead of a foreign key on the points,
    whose per-row check cost more than the insert itself on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION scalar_series_deleted() RETURNS trigger AS $$ BEGIN "
            "DELETE FROM scalar_points WHERE series_id = OLD.id; RETURN OLD; END $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER scalar_series_deleted AFTER DELETE ON scalar_series "
            "FOR EACH ROW EXECUTE FUNCTION scalar_series_deleted()"
        )
    else:
        op.execute(
            "CREATE TRIGGER scalar_series_deleted AFTER DELETE ON scalar_series "
            "BEGIN DELETE FROM scalar_points WHERE series_id = OLD.id; END"
        )


def _build_rollup(conn: sa.Connection) -> None:
    from hydratrack.server.store import rollup

    for (sid,) in conn.execute(sa.text("SELECT id FROM scalar_series")).all():
        rows = conn.execute(
            sa.text(
                "SELECT iter, value, ts FROM scalar_points WHERE series_id = :s ORDER BY iter, seq"
            ),
            {"s": sid},
        ).all()
        rollup.add(conn, {sid: ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])})


def downgrade() -> None:
    op.create_table(
        "scalars",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("iter", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_scalars_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scalars")),
    )
    op.create_index(
        "ix_scalars_task_id_metric_variant_iter_value",
        "scalars",
        ["task_id", "metric", "variant", "iter", "value"],
    )
    op.execute(
        "INSERT INTO scalars (task_id, metric, variant, iter, value, ts) "
        "SELECT s.task_id, s.metric, s.variant, p.iter, p.value, p.ts "
        "FROM scalar_points p JOIN scalar_series s ON s.id = p.series_id "
        "ORDER BY s.id, p.seq"
    )
    op.execute(
        "DROP TRIGGER scalar_series_deleted"
        + (" ON scalar_series" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION scalar_series_deleted()")
    op.drop_table("scalar_rollup")
    op.drop_table("scalar_points")
    op.drop_table("scalar_series")

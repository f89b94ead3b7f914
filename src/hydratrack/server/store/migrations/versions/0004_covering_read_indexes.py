"""covering indexes for the downsampled scalar read and the hyperparameter filter

The scalar index gains ``value`` so bucket minima/maxima are read from the index alone;
the hyperparameter index gains ``task_id`` so a filter needs no row lookups. Each
replaces the narrower index it extends (same leading columns).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_scalars_task_id_metric_variant_iter_value",
        "scalars",
        ["task_id", "metric", "variant", "iter", "value"],
    )
    op.drop_index("ix_scalars_task_id_metric_variant_iter", table_name="scalars")
    op.create_index(
        "ix_hyperparams_section_name_value_prefix_task_id",
        "hyperparams",
        ["section", "name", "value_prefix", "task_id"],
    )
    op.drop_index("ix_hyperparams_section_name_value_prefix", table_name="hyperparams")


def downgrade() -> None:
    op.create_index(
        "ix_hyperparams_section_name_value_prefix",
        "hyperparams",
        ["section", "name", "value_prefix"],
    )
    op.drop_index("ix_hyperparams_section_name_value_prefix_task_id", table_name="hyperparams")
    op.create_index(
        "ix_scalars_task_id_metric_variant_iter",
        "scalars",
        ["task_id", "metric", "variant", "iter"],
    )
    op.drop_index("ix_scalars_task_id_metric_variant_iter_value", table_name="scalars")

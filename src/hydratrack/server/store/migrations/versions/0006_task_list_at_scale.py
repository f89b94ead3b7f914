"""task list at scale: a membership index on tasks, started order, hyperparameter statistics

- ``tasks(id, archived, created)``: a hyperparameter filter finds its task ids in the
  hyperparameter index, then checks each one here (archived, and the default sort key)
  without reading the wide task row;
- ``tasks(archived, started)``: the experiments table sorts by start time;
- PostgreSQL: statistics over ``hyperparams(section, name, value_prefix)`` together, so
  the planner knows how many tasks share a value (one column at a time it guessed ~500
  for a value held by 14k tasks, and sorted every match instead of walking the order).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATS = "st_hyperparams_section_name_value_prefix"


def upgrade() -> None:
    op.create_index("ix_tasks_id_archived_created", "tasks", ["id", "archived", "created"])
    op.create_index("ix_tasks_archived_started", "tasks", ["archived", "started"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATS} (mcv) "
            "ON section, name, value_prefix FROM hyperparams"
        )
        op.execute("ANALYZE hyperparams")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATS}")
    op.drop_index("ix_tasks_archived_started", table_name="tasks")
    op.drop_index("ix_tasks_id_archived_created", table_name="tasks")

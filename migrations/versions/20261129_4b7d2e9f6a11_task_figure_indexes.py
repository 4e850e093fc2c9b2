"""Covering index from tasks to their handling units; partial index for archiving.

Revision ID: 4b7d2e9f6a11
Revises: 9c1e5a7b3d20
Create Date: 2026-11-29 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b7d2e9f6a11"
down_revision: str | None = "9c1e5a7b3d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED = "state = 'closed_out'"


def upgrade() -> None:
    with op.batch_alter_table("task_assignees", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_assignees_task_cover",
            ["task_id"],
            postgresql_include=["unit_id", "role", "state", "accepted_at", "return_reason"],
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_closed_out",
            ["closed_at"],
            sqlite_where=sa.text(CLOSED),
            postgresql_where=sa.text(CLOSED),
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_closed_out")
    with op.batch_alter_table("task_assignees", schema=None) as batch_op:
        batch_op.drop_index("ix_task_assignees_task_cover")

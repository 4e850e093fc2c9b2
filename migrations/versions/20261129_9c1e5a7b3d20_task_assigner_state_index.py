"""Index for the assigner's worklist (tasks by assigning unit and state).

Revision ID: 9c1e5a7b3d20
Revises: 55f576acb02c
Create Date: 2026-11-29 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9c1e5a7b3d20"
down_revision: str | None = "55f576acb02c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_assigner_state", ["assigner_unit_id", "state"])


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_assigner_state")

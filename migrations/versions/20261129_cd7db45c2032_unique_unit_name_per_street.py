"""unique unit name per street

Revision ID: cd7db45c2032
Revises: 58236616c77e
Create Date: 2026-11-29 08:23:04.250981
"""

from collections.abc import Sequence

from alembic import op

revision: str = "cd7db45c2032"
down_revision: str | None = "58236616c77e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows that already share a name in a street (possible only through a race before this
    # constraint) keep their data; the later ones get a visible suffix to tidy up by hand.
    op.execute(
        "UPDATE units SET name = name || '（重复' || id || '）' WHERE id IN ("
        " SELECT u.id FROM units u JOIN units v"
        " ON u.street_id = v.street_id AND u.name = v.name AND u.id > v.id)"
    )
    op.create_index("uq_units_street_name", "units", ["street_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_units_street_name", table_name="units")

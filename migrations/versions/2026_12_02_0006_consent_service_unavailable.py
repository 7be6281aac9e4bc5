"""consent service_unavailable: calls the dialplan connected while callrec was unavailable.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

``service_unavailable`` has 19 characters; ``calls.consent`` held 16. Widening a VARCHAR keeps
every row as it is (PostgreSQL changes only the limit; SQLite rebuilds the table in batch mode).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.alter_column(
            "consent",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Rows marked service_unavailable would not fit: they go back to the nearest old value.
    op.execute("UPDATE calls SET consent = 'interrupted' WHERE consent = 'service_unavailable'")
    with op.batch_alter_table("calls") as batch:
        batch.alter_column(
            "consent",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )

"""withdrawal: when a caller withdrew consent during the call.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02 12:00:00

``calls.withdrawn_at`` is set on calls whose consent is ``withdrawn`` (the caller pressed the
withdrawal key mid-call; the recording was deleted when the call ended). Adding a nullable
column keeps every row as it is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Without the column a withdrawn call would read as consent given: the nearest honest old
    # value is "declined" (the caller refused recording; its recording is already deleted).
    op.execute("UPDATE calls SET consent = 'declined' WHERE consent = 'withdrawn'")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("withdrawn_at")

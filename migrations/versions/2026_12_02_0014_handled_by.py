"""handled_by: which callrec instance wrote a call's row last.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:00:00

Several instances may share one Asterisk and one database (README, "Two instances"). Each
stamps the rows it writes with its Stasis application's name, so a restarted instance
follows again only its own unfinished calls, and an instance taking over a dead one's
calls finds them. Nullable: rows from before have no instance, and every instance may
adopt them as the single instance always did.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("handled_by", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("handled_by")

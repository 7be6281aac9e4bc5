"""interrupted_by: what cut a call's recording short.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 20:00:00

Issue 15: when Asterisk dies mid-conversation, MixMonitor never closes the recording; callrec
repairs the file from its length (recording/repair.py) and settles it as complete, with
``interrupted_by = 'pbx'`` so staff and the DPO see the recording ends where the PBX failed,
not where the call did. Nullable: every other recording (and every row from before) was not
cut short.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("interrupted_by", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("interrupted_by")

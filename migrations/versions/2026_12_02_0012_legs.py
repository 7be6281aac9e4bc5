"""legs: the size and SHA-256 of each direction MixMonitor writes beside the mix.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 14:00:00

Every recorded call now has two legs beside its mix (``recording/legs.py``): the data
subject's voice alone (``<name>.caller.wav``) and the staff member's (``<name>.agent.wav``).
Their sizes and SHA-256 are kept like the mix's so any copy of a leg can be checked. Nullable
columns keep every older row as it is: a call recorded before legs existed has none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_leg_size_bytes", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("caller_leg_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("agent_leg_size_bytes", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("agent_leg_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    # The leg files stay on disk: an older callrec's orphan sweep sees them as recordings no
    # row knows, and removes them once they are past the longest retention.
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("agent_leg_sha256")
        batch.drop_column("agent_leg_size_bytes")
        batch.drop_column("caller_leg_sha256")
        batch.drop_column("caller_leg_size_bytes")

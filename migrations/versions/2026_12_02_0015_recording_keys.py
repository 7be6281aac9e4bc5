"""recording keys: each encrypted recording's data key, wrapped by a master key.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 18:00:00

Issue 14 §1: recordings are encrypted at rest, each with a key of its own. The key is kept
here, wrapped, and never beside the file, so deleting the row destroys the recording even
in copies of the storage (crypto-erasure). A new table: no row changes. Downgrading drops
the keys: every encrypted recording becomes unreadable, so decrypt them first (or keep a
backup of the table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recording_keys",
        sa.Column("recording_path", sa.String(length=1024), nullable=False),
        sa.Column("master_key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("recording_path", name=op.f("pk_recording_keys")),
    )
    op.create_index("ix_recording_keys_master_key_id", "recording_keys", ["master_key_id"])


def downgrade() -> None:
    op.drop_index("ix_recording_keys_master_key_id", table_name="recording_keys")
    op.drop_table("recording_keys")

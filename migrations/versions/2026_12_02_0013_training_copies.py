"""training copies: the library of anonymised copies of calls made for training.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:00:00

Seed 003 §9: recordings used in training where unauthorised people are present are
anonymised. A supervisor marks a call; callrec makes a new recording from its two legs
(caller's voice disguised or left out, marked spans silenced) and keeps it here, under a
random id and file name, with nothing that leads back to the call. A new table: no row
changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_copies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("file", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("caller_voice", sa.String(length=16), nullable=False),
        sa.Column("made_month", sa.String(length=7), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_copies")),
    )
    op.create_index("ix_training_copies_expires_on", "training_copies", ["expires_on"])


def downgrade() -> None:
    # The copies' files stay in the training folder; an operator removes the folder by hand.
    op.drop_index("ix_training_copies_expires_on", table_name="training_copies")
    op.drop_table("training_copies")

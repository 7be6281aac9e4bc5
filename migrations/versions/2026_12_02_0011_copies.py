"""copies: the register of every copy of a recording that left callrec.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00

A redeemed release or a written data-subject export adds one row per recording file it
carried out: which call, the mix or the caller's leg alone, the file's SHA-256, to whom and
why, the release or request it answers, and the agent's consent when the mix went to the
data subject. Erasure of a number lists these rows (seed 001). A new table: no row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "copies",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("release_id", _ID, nullable=True),
        sa.Column("request_id", _ID, nullable=True),
        sa.Column("consent", sa.Text(), nullable=True),
        sa.Column("made_at", _TIMESTAMP, nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_copies_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_copies_release_id_releases")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["dsr_requests.id"], name=op.f("fk_copies_request_id_dsr_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copies")),
    )
    op.create_index("ix_copies_call_id", "copies", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_copies_call_id", table_name="copies")
    op.drop_table("copies")

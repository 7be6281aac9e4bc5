"""pending grants: privileged roles and two-factor exemptions waiting for a second admin.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

Granting admin, dpo or director, or exempting someone from two-factor sign-in, is asked for
by one admin and takes effect once a different admin approves it (four eyes). The rows stay
after the decision, so who asked and who decided can be shown beside the audit trail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_grants",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", _TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_grants")),
    )
    op.create_index(
        "ix_pending_grants_user_id_outcome", "pending_grants", ["user_id", "outcome"]
    )


def downgrade() -> None:
    op.drop_index("ix_pending_grants_user_id_outcome", table_name="pending_grants")
    op.drop_table("pending_grants")

"""route changes: retention policies and routes the admin sets at run time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_changes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_policy_changes")),
    )
    op.create_table(
        "route_changes",
        sa.Column("did", sa.String(length=64), nullable=False),
        sa.Column("languages", sa.String(length=128), nullable=False),
        sa.Column("prompt", sa.String(length=64), nullable=False),
        sa.Column("retention", sa.String(length=64), nullable=False),
        sa.Column("on_decline", sa.String(length=16), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_route_changes")),
    )


def downgrade() -> None:
    op.drop_table("route_changes")
    op.drop_table("policy_changes")

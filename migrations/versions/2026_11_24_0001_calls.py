"""calls: one row per call, the latest snapshot of its CallRecord.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 10:03:51
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQLAlchemy types, not the model's: a migration must not change when app code does.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=True),
        sa.Column("dialled_number", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("languages", sa.String(length=128), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TIMESTAMP, nullable=False),
        sa.Column("answered_at", _TIMESTAMP, nullable=True),
        sa.Column("ended_at", _TIMESTAMP, nullable=True),
        sa.Column("recording_path", sa.String(length=1024), nullable=True),
        sa.Column("recording_status", sa.String(length=16), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("retention_policy", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", _TIMESTAMP, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", _TIMESTAMP, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_calls_uniqueid")),
    )
    op.create_index("ix_calls_caller_number_started_at", "calls", ["caller_number", "started_at"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_agent_started_at", "calls", ["agent", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_agent_started_at", table_name="calls")
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.drop_index("ix_calls_caller_number_started_at", table_name="calls")
    op.drop_table("calls")

"""call_agents: every agent who was on a call, joined to left.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 22:00:00

Issue 16: a queued call answered by one agent and transferred to another (blind or
attended) has several agents. ``calls.agent`` keeps the first, as before; this table has
one row per agent's channel, written by the service beside the call's row, so that each
agent can find and play the calls they took part in. Indexed by agent for that lookup.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_agents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_uniqueid", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_uniqueid"],
            ["calls.uniqueid"],
            name=op.f("fk_call_agents_call_uniqueid_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_agents")),
        sa.UniqueConstraint(
            "call_uniqueid", "channel_id", name=op.f("uq_call_agents_call_uniqueid_channel_id")
        ),
    )
    op.create_index("ix_call_agents_agent", "call_agents", ["agent", "call_uniqueid"])


def downgrade() -> None:
    op.drop_index("ix_call_agents_agent", table_name="call_agents")
    op.drop_table("call_agents")

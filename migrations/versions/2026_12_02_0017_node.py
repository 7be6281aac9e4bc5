"""node: which PBX node a call's row comes from.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 20:00:00

Issue 14 §3: several Asterisk nodes, each with a callrec beside it, may share one database
and one object store. Each service stamps the rows it writes with its node (``[service]
node``, by default the machine's short name), so a row says which PBX recorded it, and
the staff app can list, filter and search across nodes. Nullable: rows from before have no
node. Indexed: a search by node must not read every call.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("node", sa.String(64), nullable=True))
        batch.create_index("ix_calls_node", ["node"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_node")
        batch.drop_column("node")

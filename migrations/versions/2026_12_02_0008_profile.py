"""profile: the admin's organisation profile and per-route processing; policies in months.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00

The profile's fields (controller, data-protection officer, notice address, supervisory
authority) and each dialled number's processing (``*``: the default) can be changed at run
time like routes. A retention policy set by the admin may count calendar months instead of
days: exactly one of the two columns is set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # batch mode: SQLite cannot alter a column's nullability in place.
    with op.batch_alter_table("policy_changes") as batch:
        batch.alter_column("days", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("months", sa.Integer(), nullable=True))
    op.create_table(
        "profile_changes",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_profile_changes")),
    )
    op.create_table(
        "processing_changes",
        sa.Column("did", sa.String(length=64), nullable=False),
        sa.Column("purposes", sa.String(length=200), nullable=False),
        sa.Column("purpose_text", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("storage_country", sa.String(length=2), nullable=False),
        sa.Column("transfers", sa.Text(), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_processing_changes")),
    )


def downgrade() -> None:
    op.drop_table("processing_changes")
    op.drop_table("profile_changes")
    # A months policy has no days to go back to: it is dropped, the config file's applies.
    op.execute(sa.text("DELETE FROM policy_changes WHERE days IS NULL"))
    with op.batch_alter_table("policy_changes") as batch:
        batch.drop_column("months")
        batch.alter_column("days", existing_type=sa.Integer(), nullable=False)

"""evidence: each call's consent evidence, and every version of every prompt file.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02 12:00:00

``calls.evidence`` holds what the consent step can prove (the prompts heard to their end with
the SHA-256 of their audio, the keys pressed, the hand-off) as JSON; rows stored before stay
NULL. ``prompt_versions`` numbers each audio a prompt file has had, so a call's evidence can
name the version it heard; the audio of a version is kept beside it until no kept call names it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("evidence", sa.Text(), nullable=True))
    op.create_table(
        "prompt_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("retired_at", _TIMESTAMP, nullable=True),
        sa.Column("audio_path", sa.String(length=256), nullable=True),
        sa.Column("audio_deleted_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_versions")),
        sa.UniqueConstraint(
            "name", "language", "version", name=op.f("uq_prompt_versions_name_language_version")
        ),
    )
    op.create_index("ix_prompt_versions_sha256", "prompt_versions", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_prompt_versions_sha256", table_name="prompt_versions")
    op.drop_table("prompt_versions")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("evidence")

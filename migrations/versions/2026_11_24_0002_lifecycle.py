"""lifecycle: retention dates, legal holds, data-subject requests, do-not-record, corrections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:10:00

Existing rows get no ``delete_after`` or ``caller_e164``: the migration cannot know the
configured policies or number region. The purge computes a missing ``delete_after`` from the
row's policy name; rows stored before this revision are not found by number.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        _id(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number_e164", sa.String(length=20), nullable=False),
        sa.Column("requester", sa.String(length=256), nullable=False),
        sa.Column("received_on", _TIMESTAMP, nullable=False),
        sa.Column("due_at", _TIMESTAMP, nullable=False),
        sa.Column("extended_at", _TIMESTAMP, nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("closed_at", _TIMESTAMP, nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_requests")),
    )
    op.create_index("ix_dsr_requests_status_due_at", "dsr_requests", ["status", "due_at"])
    op.create_index("ix_dsr_requests_number_e164", "dsr_requests", ["number_e164"])

    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_e164", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("delete_after", _TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("erasure_requested_at", _TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("erasure_request_id", _ID, nullable=True))
        batch.add_column(sa.Column("purged_at", _TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("purge_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("restricted_at", _TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("restricted_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("restriction_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("rectified_at", _TIMESTAMP, nullable=True))
        batch.create_foreign_key(
            op.f("fk_calls_erasure_request_id_dsr_requests"),
            "dsr_requests",
            ["erasure_request_id"],
            ["id"],
        )
        batch.create_index("ix_calls_caller_e164_started_at", ["caller_e164", "started_at"])
        batch.create_index("ix_calls_delete_after", ["delete_after"])

    op.create_table(
        "legal_holds",
        _id(),
        sa.Column("case_reference", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=128), nullable=False),
        sa.Column("placed_at", _TIMESTAMP, nullable=False),
        sa.Column("ends_at", _TIMESTAMP, nullable=True),
        sa.Column("number_e164", sa.String(length=20), nullable=True),
        sa.Column("period_from", _TIMESTAMP, nullable=True),
        sa.Column("period_to", _TIMESTAMP, nullable=True),
        sa.Column("released_at", _TIMESTAMP, nullable=True),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_table(
        "legal_hold_calls",
        sa.Column("hold_id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["legal_holds.id"], name=op.f("fk_legal_hold_calls_hold_id_legal_holds")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_legal_hold_calls_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("hold_id", "call_id", name=op.f("pk_legal_hold_calls")),
    )
    op.create_index("ix_legal_hold_calls_call_id", "legal_hold_calls", ["call_id"])

    op.create_table(
        "dsr_actions",
        _id(),
        sa.Column("request_id", _ID, nullable=True),
        sa.Column("at", _TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["dsr_requests.id"], name=op.f("fk_dsr_actions_request_id_dsr_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_actions")),
    )
    op.create_index("ix_dsr_actions_request_id", "dsr_actions", ["request_id"])

    op.create_table(
        "do_not_record",
        sa.Column("number_e164", sa.String(length=20), nullable=False),
        sa.Column("added_at", _TIMESTAMP, nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("request_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_do_not_record_request_id_dsr_requests"),
        ),
        sa.PrimaryKeyConstraint("number_e164", name=op.f("pk_do_not_record")),
    )

    op.create_table(
        "call_corrections",
        _id(),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("request_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_corrections_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_call_corrections_request_id_dsr_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_corrections")),
    )
    op.create_index("ix_call_corrections_call_id", "call_corrections", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_corrections_call_id", table_name="call_corrections")
    op.drop_table("call_corrections")
    op.drop_table("do_not_record")
    op.drop_index("ix_dsr_actions_request_id", table_name="dsr_actions")
    op.drop_table("dsr_actions")
    op.drop_index("ix_legal_hold_calls_call_id", table_name="legal_hold_calls")
    op.drop_table("legal_hold_calls")
    op.drop_table("legal_holds")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_delete_after")
        batch.drop_index("ix_calls_caller_e164_started_at")
        batch.drop_constraint(op.f("fk_calls_erasure_request_id_dsr_requests"), type_="foreignkey")
        for column in (
            "rectified_at",
            "restriction_reason",
            "restricted_by",
            "restricted_at",
            "purge_reason",
            "purged_at",
            "erasure_request_id",
            "erasure_requested_at",
            "delete_after",
            "caller_e164",
        ):
            batch.drop_column(column)
    op.drop_index("ix_dsr_requests_number_e164", table_name="dsr_requests")
    op.drop_index("ix_dsr_requests_status_due_at", table_name="dsr_requests")
    op.drop_table("dsr_requests")

"""audit append-only: triggers refusing to edit or remove audit entries, or move the head back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 18:00:00

Defence in depth beside the hash chain: without DDL rights nobody can change or delete an
entry, delete or truncate the head, or set the head anywhere but one step forward
(``callrec_ari.audit.trail.append`` bumps ``seq`` by one, then sets ``hash`` to the new
entry's). Someone who can drop these triggers can still tamper; ``callrec audit verify``
then finds it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The only head updates append makes: one step forward keeping the hash, then the new
# entry's hash at the same seq.
_HEAD_MOVE_ALLOWED = """
    (NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash)
    OR (NEW.id = OLD.id AND NEW.seq = OLD.seq
        AND NEW.hash = (SELECT hash FROM audit_log WHERE seq = NEW.seq))
"""

_POSTGRES_UP = [
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
    END;
    $$
    """,
    f"""
    CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND ({_HEAD_MOVE_ALLOWED}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_head only moves forward with an append: % refused', TG_OP;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()
    """,
]

_POSTGRES_DOWN = [
    "DROP TRIGGER audit_head_no_truncate ON audit_head",
    "DROP TRIGGER audit_head_forward_only ON audit_head",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "DROP FUNCTION audit_head_forward_only()",
    "DROP FUNCTION audit_log_append_only()",
]

# SQLite has no TRUNCATE: a DELETE without WHERE runs the row triggers like any other.
_SQLITE_UP = [
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END
    """,
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward with an append: DELETE refused');
    END
    """,
    f"""
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NOT ({_HEAD_MOVE_ALLOWED})
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward with an append: UPDATE refused');
    END
    """,
]

_SQLITE_DOWN = [
    "DROP TRIGGER audit_head_forward_only",
    "DROP TRIGGER audit_head_no_delete",
    "DROP TRIGGER audit_log_no_delete",
    "DROP TRIGGER audit_log_no_update",
]


def _statements(up: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return _POSTGRES_UP if up else _POSTGRES_DOWN
    return _SQLITE_UP if up else _SQLITE_DOWN


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)

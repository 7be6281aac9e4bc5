"""``schema.upgrade_at_start`` (``callrec run --migrate``): migrate before serving, never
stop the start because the database is down."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from callrec_ari.db import schema
from callrec_ari.db.migrate import current_revision, head_revision
from tests.support.postgres import free_port


def test_a_new_database_is_brought_to_the_newest_schema(empty_database_url):
    """A database never migrated is at the head revision afterwards, and it says so."""
    with capture_logs() as logs:
        schema.upgrade_at_start(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    [migrated] = [line for line in logs if line["event"] == "database.migrated"]
    assert (migrated["revision_from"], migrated["revision_to"]) == (None, head_revision())


def test_an_up_to_date_database_is_left_alone(database_url):
    """Nothing to do: no migration logged."""
    with capture_logs() as logs:
        schema.upgrade_at_start(database_url)
    assert [line for line in logs if line["event"] == "database.migrated"] == []


def test_a_database_that_does_not_answer_is_a_warning_not_a_failed_start():
    """Calls must not wait for the database: the start goes on, with one warning line."""
    url = f"postgresql+asyncpg://callrec:secret@127.0.0.1:{free_port()}/callrec"
    with capture_logs() as logs:
        schema.upgrade_at_start(url)
    [warning] = [line for line in logs if line["event"] == "database.unreachable_at_start"]
    assert warning["migrated"] is False
    assert "secret" not in warning["error"]


def test_a_sqlite_folder_is_made(tmp_path: Path):
    """The SQLite file's folder is created, as ``callrec migrate`` does."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'callrec.db'}"
    schema.upgrade_at_start(url)
    assert current_revision(url) == head_revision()

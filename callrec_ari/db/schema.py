"""Start-up checks of the database schema, shared by ``callrec run``, the sandbox and the demo."""

from __future__ import annotations

from pathlib import Path

import structlog

from callrec_ari.db import migrate
from callrec_ari.errors import DatabaseError

log = structlog.get_logger(__name__)

_SQLITE = "sqlite+aiosqlite:///"


def prepare_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file: SQLite creates the file but not its folder."""
    if url.startswith(_SQLITE) and url != _SQLITE + ":memory:":
        Path(url.removeprefix(_SQLITE)).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str) -> None:
    """Bring the database up to the newest schema (creating a SQLite file if needed)."""
    prepare_sqlite_folder(url)
    migrate.upgrade_to_head(url)


def upgrade_at_start(url: str) -> None:
    """``callrec run --migrate``: upgrade the schema before serving. A database that does not
    answer is only a warning, as in ``check``: calls must not wait for it, and the next start
    migrates. One that answers but refuses the migration stops the start (``DatabaseError``).
    """
    prepare_sqlite_folder(url)
    try:
        current = migrate.current_revision(url)
    except DatabaseError as exc:
        log.warning("database.unreachable_at_start", error=str(exc), migrated=False)
        return
    head = migrate.head_revision()
    if current != head:
        migrate.upgrade_to_head(url)
        log.info("database.migrated", revision_from=current, revision_to=head)


def require(url: str) -> None:
    """For a command-line job: ``DatabaseError`` unless the database answers and is migrated."""
    current = migrate.current_revision(url)
    head = migrate.head_revision()
    if current != head:
        raise DatabaseError(
            f"The database is at schema revision {current or 'none'} but callrec needs {head}: "
            "run `callrec migrate` first."
        )


def check(url: str) -> None:
    """Refuse a database behind the migrations; an unreachable one is only a warning.

    The call path never waits for the database, so a database that is down at start-up must
    not stop calls from being recorded: the writer buffers rows until it answers.
    """
    prepare_sqlite_folder(url)
    try:
        current = migrate.current_revision(url)
    except DatabaseError as exc:
        log.warning("database.unreachable_at_start", error=str(exc))
        return
    head = migrate.head_revision()
    if current != head:
        raise DatabaseError(
            f"The database is at schema revision {current or 'none'} but callrec needs {head}: "
            "run `callrec migrate` first."
        )

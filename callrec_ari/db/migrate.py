"""Alembic driven from code, with no alembic.ini: the app and the tests call these functions.

The migrations live in the top-level ``migrations`` folder beside the package. Both
functions run their own event loop, so call them from synchronous code, or from async code
through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from callrec_ari.db.session import create_engine, describe_error
from callrec_ari.errors import DatabaseError

# The folder beside the package: Path(callrec_ari.__file__).parent.parent, but also right
# while callrec_ari is a namespace package without __file__.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# Date-prefixed names (with rev_id="0002", ...) keep versions/ in the order they were written.
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s"


def alembic_config(url: str) -> Config:
    """The Alembic configuration for the database at ``url`` (also for ``alembic revision``)."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise DatabaseError(f"The migrations folder {MIGRATIONS_DIR} is missing or incomplete.")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", FILE_TEMPLATE)
    # Passed as an attribute, not an option: options go through ConfigParser, which would
    # trip over a '%' in a password.
    config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` up to the newest schema."""
    _refuse_running_loop("upgrade_to_head")
    try:
        command.upgrade(alembic_config(url), "head")
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(
            f"The database {safe_url(url)} could not be migrated: {describe_error(exc)}."
        ) from exc


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; None if it was never migrated."""
    _refuse_running_loop("current_revision")
    try:
        return asyncio.run(_current_revision(url))
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(
            f"The database {safe_url(url)} could not be read: {describe_error(exc)}."
        ) from exc


def _refuse_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() runs its own event loop: await asyncio.to_thread({name}, url).")


async def _current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_revision_of)
    finally:
        await engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def safe_url(url: str) -> str:
    """The database URL without its password, fit for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)

"""Migrations: the only way the schema is made, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from callrec_ari.db import migrate
from callrec_ari.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from callrec_ari.db.models import Base
from callrec_ari.db.session import create_engine
from callrec_ari.errors import DatabaseError
from tests.support.postgres import free_port


def test_a_new_database_has_no_revision(empty_database_url):
    """A database never migrated reports no revision."""
    assert current_revision(empty_database_url) is None


async def test_upgrade_creates_the_calls_table(database_url):
    """After upgrade to head the calls table exists with its indexes, at the head revision."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables, indexes = await connection.run_sync(
                lambda sync: (
                    inspect(sync).get_table_names(),
                    {index["name"] for index in inspect(sync).get_indexes("calls")},
                )
            )
    finally:
        await engine.dispose()
    assert "calls" in tables
    assert {
        "ix_calls_caller_number_started_at",
        "ix_calls_started_at",
        "ix_calls_agent_started_at",
    } <= indexes
    assert await asyncio.to_thread(current_revision, database_url) == head_revision()


async def test_calling_from_a_running_loop_is_refused_clearly(database_url):
    """From async code the functions say to use a thread instead of failing obscurely."""
    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread"):
        upgrade_to_head(database_url)


def test_upgrading_twice_changes_nothing(database_url):
    """Upgrading a database already at head is harmless (the service does it at every start)."""
    upgrade_to_head(database_url)
    assert current_revision(database_url) == head_revision()


async def test_migrations_match_the_models(database_url):
    """The migrated schema is exactly what the models declare: no change left to autogenerate."""

    def differences(connection: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


def test_a_missing_migrations_folder_is_reported(monkeypatch, tmp_path):
    """Without the migrations folder the error names it in one sentence."""
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path / "nowhere")
    with pytest.raises(DatabaseError, match=r"migrations folder .* is missing"):
        upgrade_to_head(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")


def test_an_unreachable_database_is_reported():
    """Migrating a server that is not there raises DatabaseError without the password."""
    url = f"postgresql+asyncpg://callrec:secret@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(DatabaseError, match="could not be migrated") as raised:
        upgrade_to_head(url)
    assert "secret" not in str(raised.value)


def calls_columns(database_url: str) -> set[str]:
    """The columns of the calls table as the database has them now."""

    async def read() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: {column["name"] for column in inspect(sync).get_columns("calls")}
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("column", "before"),
    [("handled_by", "0013"), ("interrupted_by", "0015"), ("node", "0016")],
)
def test_a_column_goes_down_and_comes_back(database_url, column, before):
    """Migrations 0014 (handled_by), 0016 (interrupted_by) and 0017 (node) each downgrade to
    the revision before them (the column goes, rows stay) and upgrade again."""
    assert column in calls_columns(database_url)
    command.downgrade(migrate.alembic_config(database_url), before)
    assert column not in calls_columns(database_url)
    upgrade_to_head(database_url)
    assert column in calls_columns(database_url)


def tables_down_and_up(database_url: str, revision: str) -> tuple[set[str], set[str]]:
    """The tables after a downgrade to ``revision``, then after upgrading to head again."""

    def tables() -> set[str]:
        async def read() -> set[str]:
            engine = create_engine(database_url)
            try:
                async with engine.connect() as connection:
                    return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            finally:
                await engine.dispose()

        return asyncio.run(read())

    command.downgrade(alembic_config(database_url), revision)
    down = tables()
    upgrade_to_head(database_url)
    return down, tables()


async def test_the_training_library_migrates_down_and_up(database_url):
    """Revision 0013 adds ``training_copies`` and its index; going back to 0012 removes
    them, and upgrading again brings them back."""

    down, up = await asyncio.to_thread(tables_down_and_up, database_url, "0012")
    assert "training_copies" not in down
    assert "training_copies" in up
    assert await asyncio.to_thread(current_revision, database_url) == head_revision()


async def test_the_recording_keys_migrate_down_and_up(database_url):
    """Revision 0015 adds ``recording_keys``; going back to 0014 removes it (and with it
    every wrapped key), and upgrading again brings the table back, empty."""

    down, up = await asyncio.to_thread(tables_down_and_up, database_url, "0014")
    assert "recording_keys" not in down
    assert "recording_keys" in up


async def test_the_agents_of_calls_migrate_down_and_up(database_url):
    """Revision 0018 adds ``call_agents``; going back to 0017 removes it, and upgrading
    again brings it back."""

    down, up = await asyncio.to_thread(tables_down_and_up, database_url, "0017")
    assert "call_agents" not in down
    assert "call_agents" in up
    assert await asyncio.to_thread(current_revision, database_url) == head_revision()

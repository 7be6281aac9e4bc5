"""Migration 0004: the database itself refuses to edit or remove entries or move the head back."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from callrec_ari.db.migrate import alembic_config, upgrade_to_head
from callrec_ari.db.session import create_engine, create_session_factory
from tests.audit.conftest import add_entries, head


async def run(sessions, statement: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_log SET detail = '{}' WHERE seq = 2", "audit_log is append-only"),
        ("UPDATE audit_log SET seq = seq + 10", "audit_log is append-only"),
        ("DELETE FROM audit_log WHERE seq = 3", "audit_log is append-only"),
        ("DELETE FROM audit_log", "audit_log is append-only"),
        ("DELETE FROM audit_head", "audit_head only moves forward"),
        ("UPDATE audit_head SET seq = 2", "audit_head only moves forward"),
        (
            "UPDATE audit_head SET seq = 0, hash = (SELECT prev_hash FROM audit_log WHERE seq = 1)",
            "audit_head only moves forward",
        ),
        ("UPDATE audit_head SET hash = 'f'", "audit_head only moves forward"),
        ("UPDATE audit_head SET seq = seq + 2", "audit_head only moves forward"),
    ],
    ids=[
        "edit",
        "renumber",
        "delete-one",
        "delete-all",
        "delete-head",
        "head-back",
        "head-reset",
        "head-hash",
        "head-skip",
    ],
)
async def test_tampering_statements_are_refused(session_factory, statement, refusal):
    """Each statement fails with the trigger's message and changes nothing."""
    await add_entries(session_factory, 3)
    before = await head(session_factory)
    with pytest.raises(DBAPIError, match=refusal):
        await run(session_factory, statement)
    assert await head(session_factory) == before


# SQLite has no TRUNCATE: its DELETE without WHERE runs the row triggers (tested above).
@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
async def test_truncate_is_refused_on_postgresql(session_factory):
    """TRUNCATE skips row triggers, so PostgreSQL has statement triggers for it."""
    await add_entries(session_factory, 1)
    for table in ("audit_log", "audit_head"):
        with pytest.raises(DBAPIError, match="TRUNCATE refused"):
            await run(session_factory, f"TRUNCATE {table}")


def test_downgrading_removes_the_guards_and_upgrading_restores_them(database_url):
    """Migration 0004 goes both ways: without it the trail can be edited, with it not."""

    async def edit() -> None:
        engine = create_engine(database_url)
        try:
            sessions = create_session_factory(engine)
            await add_entries(sessions, 1)
            await run(sessions, "UPDATE audit_log SET actor = 'x'")
        finally:
            await engine.dispose()

    command.downgrade(alembic_config(database_url), "0003")
    asyncio.run(edit())
    upgrade_to_head(database_url)
    with pytest.raises(DBAPIError, match="append-only"):
        asyncio.run(edit())

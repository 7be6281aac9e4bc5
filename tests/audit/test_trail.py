"""Appending: chained to the newest entry, inside the caller's transaction, one at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from callrec_ari.audit.chain import GENESIS, Link, link_hash
from callrec_ari.audit.trail import append
from callrec_ari.audit.verify import verify_chain
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import DatabaseError
from tests.audit.conftest import T0, add_entries, head, tamper


async def stored(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def test_a_new_trail_starts_at_genesis(session_factory):
    """Before any entry the head is seq 0 with the all-zero hash."""
    assert await head(session_factory) == (0, GENESIS)


async def test_appends_chain_each_entry_to_the_one_before(session_factory):
    """Entries are numbered from 1, each carries its predecessor's hash, the head the last."""
    await add_entries(session_factory, 3)
    entries = await stored(session_factory)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.prev_hash for e in entries] == [GENESIS, entries[0].hash, entries[1].hash]
    assert await head(session_factory) == (3, entries[-1].hash)


async def test_the_stored_entry_hashes_to_its_hash(session_factory):
    """What the database hands back recomputes to the stored hash (time and detail intact)."""
    async with session_factory() as session, session.begin():
        await append(
            session,
            at=T0 + timedelta(microseconds=654321),
            actor="anna",
            action="search",
            detail={"z": 1, "number": "+48221234567", "a": ["ż", None]},
        )
    (entry,) = await stored(session_factory)
    assert entry.detail == '{"a":["ż",null],"number":"+48221234567","z":1}'
    assert entry.at == T0 + timedelta(microseconds=654321)
    link = Link(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        detail=entry.detail,
        client=entry.client,
        prev_hash=entry.prev_hash,
    )
    assert link_hash(link) == entry.hash


async def test_a_rolled_back_action_leaves_no_entry_and_no_gap(session_factory):
    """The entry goes with its action's transaction: rolled back, the head is as before."""
    await add_entries(session_factory, 2)
    before = await head(session_factory)

    class ActionFailedError(Exception):
        pass

    async def failing_erasure() -> None:
        async with session_factory() as session, session.begin():
            await append(session, at=T0, actor="anna", action="erasure")
            raise ActionFailedError

    with pytest.raises(ActionFailedError):
        await failing_erasure()
    assert await head(session_factory) == before
    await add_entries(session_factory, 1)
    assert [e.seq for e in await stored(session_factory)] == [1, 2, 3]
    assert (await _verify(session_factory)).intact


async def test_concurrent_appends_form_one_chain(session_factory):
    """Twenty appends from twenty sessions at once: seq 1..20, no fork, the chain intact."""

    async def one(index: int) -> None:
        async with session_factory() as session, session.begin():
            await append(session, at=T0, actor=f"user{index}", action="login")
            await asyncio.sleep(0)  # let the others queue up behind the head's lock

    await asyncio.gather(*(one(index) for index in range(20)))
    entries = await stored(session_factory)
    assert [e.seq for e in entries] == list(range(1, 21))
    assert {e.actor for e in entries} == {f"user{index}" for index in range(20)}
    verdict = await _verify(session_factory)
    assert verdict.intact
    assert verdict.entries == 20


async def test_a_missing_head_stops_appends(session_factory):
    """Without its head row the trail refuses new entries and says to verify it."""
    await tamper(session_factory, "DELETE FROM audit_head")
    async with session_factory() as session, session.begin():
        with pytest.raises(DatabaseError, match="head row is missing"):
            await append(session, at=T0, actor="anna", action="login")


async def test_appends_pass_the_append_only_triggers(session_factory):
    """The guards of migration 0004 let append's own two head updates through."""
    await add_entries(session_factory, 2)
    async with session_factory() as session:
        triggers = await session.scalar(text(_COUNT_TRIGGERS[session.get_bind().dialect.name]))
    assert triggers == 4


_COUNT_TRIGGERS = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'",
    "postgresql": "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit%'",
}


async def _verify(sessions):
    async with sessions() as session:
        return await verify_chain(session)


async def test_append_works_in_a_session_without_autoflush(session_factory):
    """The entry is written before the head points at it, whatever the session's settings:
    migration 0004 refuses a head hash that no entry carries."""
    async with session_factory(autoflush=False) as session, session.begin():
        entry = await append(session, at=T0, actor="anna", action="login")
    assert await head(session_factory) == (1, entry.hash)

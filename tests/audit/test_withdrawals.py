"""The audit entry of a recording deleted on withdrawal, written with the call's row."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from sqlalchemy import select

from callrec_ari.audit.verify import verify_chain
from callrec_ari.audit.withdrawals import ACTION, SYSTEM_ACTOR
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.repository import find_record, upsert_calls
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.db.records import T0, finished, ringing

PRESSED = T0 + timedelta(seconds=40)


def withdrawn(uniqueid: str = "1795514341.6") -> CallRecord:
    """A call whose caller withdrew 40 s in; its recording deleted when it ended."""
    return dataclasses.replace(
        finished(ringing(uniqueid)),
        consent=Consent.WITHDRAWN,
        withdrawn_at=PRESSED,
        recording_status=RecordingStatus.DELETED,
        recording_path=None,
        duration_seconds=None,
        size_bytes=None,
        sha256=None,
    )


async def entries(session_factory) -> list[AuditEntry]:
    """Every entry of the trail, oldest first."""
    async with session_factory() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def test_the_deletion_is_audited_with_the_row_by_the_system(session_factory):
    """Storing the withdrawn call adds one entry saying which recording went and when."""
    record = withdrawn()
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [ringing("1.2"), record])
    [entry] = await entries(session_factory)
    assert (entry.actor, entry.action, entry.target) == (SYSTEM_ACTOR, ACTION, record.uniqueid)
    detail = json.loads(entry.detail)
    assert detail["withdrawn_at"] == PRESSED.isoformat()
    assert detail["ended_at"] == record.ended_at.isoformat()  # type: ignore[union-attr]
    assert detail["recording"] == "2026/11/24/1795514341.6.wav"
    assert detail["recording_status"] == "deleted"
    async with session_factory() as session:
        assert await find_record(session, record.uniqueid) == record
        assert (await verify_chain(session)).intact


async def test_a_replayed_snapshot_is_not_audited_twice(session_factory):
    """The journal replays a stored snapshot after a crash: still one entry."""
    record = withdrawn()
    for _ in range(2):
        async with session_factory() as session, session.begin():
            await upsert_calls(session, [record])
    assert len(await entries(session_factory)) == 1


async def test_the_entry_is_only_there_if_the_row_was_stored(session_factory):
    """A transaction that fails leaves neither the row nor the entry."""
    record = withdrawn()
    async with session_factory() as session:
        await session.begin()
        await upsert_calls(session, [record])
        await session.rollback()
    assert await entries(session_factory) == []
    async with session_factory() as session:
        assert await find_record(session, record.uniqueid) is None


async def test_calls_that_were_not_withdrawn_add_nothing(session_factory):
    """Recorded, declined and still-withdrawing calls leave the trail alone."""
    still_talking = dataclasses.replace(
        withdrawn("1.3"), recording_status=RecordingStatus.RECORDING
    )
    declined = dataclasses.replace(ringing("1.4"), consent=Consent.DECLINED)
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [finished(ringing("1.5")), declined, still_talking])
    assert await entries(session_factory) == []

"""Consent evidence is durable: the journal replays it, the writer stores it, on both databases."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import update

from callrec_ari.db.journal import Journal
from callrec_ari.db.models import Call
from callrec_ari.db.repository import find_record
from callrec_ari.db.writer import CallWriter
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.records import CallRecord
from tests.db.records import T0, finished, ringing
from tests.db.test_writer import FailingFactory, Sleeps, running, stored

SHA = "3f" * 32


def with_evidence(record: CallRecord) -> CallRecord:
    """The call with the evidence of a caller who heard Polish and English, pressed 1, stayed."""
    heard = [
        Fact(
            kind=Kind.HEARD,
            at=T0.replace(second=27 + n),
            language=language,
            prompts=(PromptHeard(name="announcement", language=language, version=3, sha256=SHA),),
        )
        for n, language in enumerate(("pl", "en"))
    ]
    return dataclasses.replace(
        record,
        evidence=(
            Fact(kind=Kind.OFFERED, at=T0, digit="9"),
            Fact(kind=Kind.PRESSED, at=T0.replace(second=20), digit="1"),
            *heard,
            Fact(kind=Kind.ENDED, at=T0.replace(second=28)),
            Fact(kind=Kind.RECORDING, at=T0.replace(second=29)),
        ),
    )


def test_the_journal_gives_the_evidence_back_after_a_crash(tmp_path):
    """A snapshot journalled with its evidence comes back identical from a reopened journal."""
    record = with_evidence(finished(ringing("1795.1")))
    Journal(tmp_path).append(record)
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == record
    assert entry.record.languages_played == ("pl", "en")


def test_a_journal_line_from_before_evidence_reads_as_none():
    """Snapshots journalled by an older callrec (no evidence key) still replay, with none."""
    data = ringing("1795.1").to_json()
    del data["evidence"]
    assert CallRecord.from_json(json.loads(json.dumps(data))).evidence == ()


async def test_the_writer_stores_the_evidence(session_factory):
    """The row read back holds the same facts, times and hashes the flow produced."""
    record = with_evidence(finished(ringing("1795.1")))
    writer = CallWriter(session_factory)
    async with running(writer):
        writer.submit(record)
        assert await writer.flush(10)
    async with session_factory() as session:
        assert await find_record(session, "1795.1") == record


async def test_evidence_journalled_while_the_database_was_down_is_stored_later(
    session_factory, tmp_path
):
    """A writer killed with the database down loses no evidence: the next one stores it."""
    folder = tmp_path / "journal"
    down = FailingFactory(session_factory, ConnectionRefusedError(111, "refused"), 10**6)
    writer = CallWriter(down, journal=Journal(folder), sleep=Sleeps())
    calls = [with_evidence(finished(ringing(f"1795.{n}"))) for n in range(3)]
    async with running(writer):
        for record in calls:
            writer.submit(record)
        assert not await writer.flush(0.05)
    revived = CallWriter(session_factory, journal=Journal(folder))
    async with running(revived):
        assert await revived.flush(10)
    rows = await stored(session_factory)
    assert sorted(rows, key=lambda r: r.uniqueid) == calls
    assert all(row.evidence[2].prompts[0].sha256 == SHA for row in rows)


async def test_a_row_stored_before_evidence_reads_as_none(session_factory):
    """A call row from before migration 0009 (evidence NULL) reads back with no facts."""
    writer = CallWriter(session_factory)
    async with running(writer):
        writer.submit(with_evidence(ringing("1795.1")))
        assert await writer.flush(10)
    async with session_factory() as session, session.begin():
        await session.execute(update(Call).values(evidence=None))
    async with session_factory() as session:
        record = await find_record(session, "1795.1")
    assert record is not None
    assert record.evidence == ()

"""The legs' sizes and hashes are stored with the call: in the database and in the journal,
and snapshots from before legs existed still read."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from callrec_ari.db.journal import Journal
from callrec_ari.db.repository import find_record, upsert_call
from callrec_ari.records import CallRecord
from tests.db.records import finished, ringing

LEGS = {
    "caller_leg_size_bytes": 5_000_000_044,  # past 32 bits, as a long call's leg can be
    "caller_leg_sha256": "c" * 64,
    "agent_leg_size_bytes": 96_044,
    "agent_leg_sha256": "a" * 64,
}


def with_legs() -> CallRecord:
    """A finished call whose two legs were measured."""
    return dataclasses.replace(finished(ringing()), **LEGS)


async def test_the_legs_facts_survive_the_database_round_trip(session_factory):
    """Each leg's size and SHA-256 come back exactly from the row."""
    record = with_legs()
    async with session_factory() as session, session.begin():
        await upsert_call(session, record)
    async with session_factory() as session:
        assert await find_record(session, record.uniqueid) == record


def test_the_legs_facts_survive_the_journal_round_trip(tmp_path: Path):
    """The journal replays the legs' facts as they were written."""
    record = with_legs()
    Journal(tmp_path).append(record)
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == record


def test_a_snapshot_journaled_before_legs_existed_still_reads(tmp_path: Path):
    """A line without the legs' keys (an older callrec's journal) replays with legs unknown."""
    old = finished(ringing()).to_json()
    for key in LEGS:
        del old[key]
    (tmp_path / "1.jsonl").write_text(json.dumps({"seq": 1, "record": old}) + "\n")
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == finished(ringing())
    assert entry.record.caller_leg_sha256 is None

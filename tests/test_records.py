"""Call records as the journal writes them: the withdrawal time, the agents' legs, old and new
snapshots alike."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.db.journal import Journal
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.db.records import T0, finished, ringing


def test_a_withdrawn_call_survives_the_journal_round_trip(tmp_path: Path):
    """Consent withdrawn and its time come back exactly from the journal."""
    record = dataclasses.replace(
        finished(ringing()),
        consent=Consent.WITHDRAWN,
        withdrawn_at=T0 + timedelta(seconds=40),
        recording_status=RecordingStatus.RECORDING,
    )
    Journal(tmp_path).append(record)
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == record


def test_a_snapshot_journaled_before_withdrawal_existed_still_reads(tmp_path: Path):
    """A line without ``withdrawn_at`` (an older callrec's journal) replays as not withdrawn."""
    old = finished(ringing()).to_json()
    del old["withdrawn_at"]
    (tmp_path / "1.jsonl").write_text(json.dumps({"seq": 1, "record": old}) + "\n")
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == finished(ringing())
    assert entry.record.withdrawn_at is None


def test_an_older_reader_is_not_thrown_by_the_new_field():
    """The new key sits beside the old ones; a reader knowing only the old keys still gets the
    call (from_json reads the keys it knows, by name)."""
    data = dataclasses.replace(finished(ringing()), withdrawn_at=T0).to_json()
    assert data["withdrawn_at"] == T0.isoformat()
    known = {key: value for key, value in data.items() if key != "withdrawn_at"}
    assert CallRecord.from_json(known) == finished(ringing())


def test_the_agents_of_a_transferred_call_survive_the_journal_round_trip(tmp_path: Path):
    """Both agents' legs, the second still open, come back exactly from the journal; a line
    from before legs were kept replays with none."""
    legs = (
        AgentLeg(
            agent="agent100",
            channel_id="1795514342.7",
            joined_at=T0 + timedelta(seconds=14),
            left_at=T0 + timedelta(seconds=20),
        ),
        AgentLeg(agent="agent101", channel_id="1795514343.8", joined_at=T0 + timedelta(seconds=21)),
    )
    record = dataclasses.replace(ringing(), agent="agent100", agent_legs=legs)
    Journal(tmp_path).append(record)
    [entry] = Journal(tmp_path).unapplied()
    assert entry.record == record
    old = record.to_json()
    del old["agent_legs"]
    assert CallRecord.from_json(old).agent_legs == ()

"""Call records as the journal writes them: the withdrawal time, old and new snapshots alike."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

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

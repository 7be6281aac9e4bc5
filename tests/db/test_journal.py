"""The call journal: snapshots survive a killed process and a torn write, and are replayed."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from callrec_ari.db.journal import CHECKPOINT, Journal
from callrec_ari.errors import DatabaseError
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.records import Consent
from tests.db.records import finished, ringing


def segments(folder):
    return sorted(path.name for path in folder.glob("*.jsonl"))


def test_entries_come_back_in_order_after_a_crash(tmp_path):
    """A journal reopened without close (as after SIGKILL) hands back every entry, in order."""
    journal = Journal(tmp_path)
    first = ringing("1795.1")
    records = [first, dataclasses.replace(first, consent=Consent.GIVEN), finished(first)]
    seqs = [journal.append(record) for record in records]
    reopened = Journal(tmp_path)
    assert seqs == [1, 2, 3]
    expected = list(zip(seqs, records, strict=True))
    assert [(e.seq, e.record) for e in reopened.unapplied()] == expected
    assert reopened.last_seq == 3


def test_the_checkpoint_hides_applied_entries_and_numbering_goes_on(tmp_path):
    """After mark_applied(2) only later entries are replayed; new entries get higher numbers."""
    journal = Journal(tmp_path)
    for n in range(4):
        journal.append(ringing(f"1795.{n}"))
    journal.mark_applied(2)
    reopened = Journal(tmp_path)
    assert [e.record.uniqueid for e in reopened.unapplied()] == ["1795.2", "1795.3"]
    assert reopened.append(ringing("1795.9")) == 5


def test_a_torn_last_line_is_dropped_and_writing_goes_on(tmp_path):
    """Half a line at the end (a crash mid-write) is cut off; the entries before it survive."""
    journal = Journal(tmp_path)
    journal.append(ringing("1795.1"))
    journal.close()
    [segment] = tmp_path.glob("*.jsonl")
    with segment.open("ab") as file:
        file.write(b'{"seq":2,"record":{"uniq')
    reopened = Journal(tmp_path)
    reopened.append(ringing("1795.3"))
    again = Journal(tmp_path)
    assert [e.record.uniqueid for e in again.unapplied()] == ["1795.1", "1795.3"]


def test_a_damaged_line_in_the_middle_costs_only_that_line(tmp_path):
    """A corrupt entry is skipped and logged; the entries around it are kept."""
    journal = Journal(tmp_path)
    journal.append(ringing("1795.1"))
    journal.close()
    [segment] = tmp_path.glob("*.jsonl")
    with segment.open("ab") as file:
        file.write(b"not json at all\n")
    reopened = Journal(tmp_path)
    reopened.append(ringing("1795.3"))
    assert [e.record.uniqueid for e in Journal(tmp_path).unapplied()] == ["1795.1", "1795.3"]


def test_an_unreadable_checkpoint_replays_everything(tmp_path):
    """Replaying stored snapshots is harmless; skipping unstored ones is not."""
    journal = Journal(tmp_path)
    journal.append(ringing("1795.1"))
    journal.mark_applied(1)
    (tmp_path / CHECKPOINT).write_text("garbage")
    assert [e.record.uniqueid for e in Journal(tmp_path).unapplied()] == ["1795.1"]


def test_applied_segments_are_deleted(tmp_path):
    """Full segments are rotated, and removed once everything in them is applied."""
    journal = Journal(tmp_path, segment_bytes=2000)
    for n in range(10):
        journal.append(finished(ringing(f"1795.{n}")))
    journal.sync()
    assert len(segments(tmp_path)) > 2
    journal.mark_applied(journal.last_seq)
    assert len(segments(tmp_path)) == 1
    assert Journal(tmp_path).unapplied() == []


def test_a_failed_write_leaves_no_partial_line(tmp_path, monkeypatch):
    """A short write (full disk) is cut back, so the next entry is readable."""
    journal = Journal(tmp_path)
    journal.append(ringing("1795.1"))
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:10]))
    with pytest.raises(OSError, match="short write"):
        journal.append(ringing("1795.2"))
    monkeypatch.setattr(os, "write", real_write)
    journal.append(ringing("1795.3"))
    assert [e.record.uniqueid for e in Journal(tmp_path).unapplied()] == ["1795.1", "1795.3"]


def test_a_journal_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    """A journal under a plain file fails with one sentence naming the folder."""
    (tmp_path / "file").write_text("")
    with pytest.raises(DatabaseError, match=r"call journal .*file/journal cannot be opened"):
        Journal(tmp_path / "file" / "journal")


def test_a_snapshot_with_its_evidence_comes_back_whole_and_old_lines_still_read(tmp_path):
    """Every kind of evidence field survives the journal, and a line in the earlier format
    (written from ``to_json``, empty fields left out) is still read after an upgrade."""
    at = finished(ringing("1795.2")).started_at
    heard = PromptHeard(name="callrec/announcement", language="pl", version=3, sha256="ab" * 32)
    evidence = (
        Fact(kind=Kind.OFFERED, at=at, digit="9"),
        Fact(kind=Kind.HEARD, at=at, language="pl", prompts=(heard,)),
        Fact(kind=Kind.NOTE, at=at, note="callrec was overloaded"),
    )
    record = dataclasses.replace(finished(ringing("1795.2")), evidence=evidence)
    journal = Journal(tmp_path)
    journal.append(record)
    journal.close()
    older = {"seq": 2, "record": record.to_json()}
    with (tmp_path / segments(tmp_path)[0]).open("a") as file:
        file.write(json.dumps(older) + "\n")
    assert [entry.record for entry in Journal(tmp_path).unapplied()] == [record, record]

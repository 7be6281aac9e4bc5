"""The human-readable statement built from a call's stored evidence."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from callrec_ari.evidence.facts import UNAVAILABLE, Fact, Kind, PromptHeard
from callrec_ari.evidence.statement import statement
from callrec_ari.records import Consent, RecordingStatus
from tests.db.records import ringing

T0 = datetime(2026, 12, 2, 10, 15, 3, tzinfo=UTC)
SHA = "5e" * 32


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_caller_who_stayed_on_reads_as_the_issue_asks():
    """Announcement v3 (pl, sha256) heard to its end, stayed on, recording started."""
    heard = Fact(
        kind=Kind.HEARD,
        at=at(24),
        language="pl",
        prompts=(PromptHeard(name="announcement", language="pl", version=3, sha256=SHA),),
    )
    record = dataclasses.replace(
        ringing("1795514341.6", start=T0),
        consent=Consent.GIVEN,
        recording_status=RecordingStatus.COMPLETE,
        evidence=(
            Fact(kind=Kind.OFFERED, at=T0, digit="9"),
            heard,
            Fact(kind=Kind.ENDED, at=at(24)),
            Fact(kind=Kind.RECORDING, at=at(25)),
        ),
    )
    assert statement(record) == [
        "Call 1795514341.6 to 5551000 started on 2026-12-02 10:15:03 UTC.",
        "At 10:15:03 the announcement offered decline key 9.",
        f"The caller heard announcement v3 (pl, sha256 {SHA}) to its end at 10:15:27.",
        "The announcement ended at 10:15:27 and the caller stayed on.",
        "Recording started 10:15:28.",
        "Languages heard to the end: pl.",
        "Outcome: consent given by staying on the line.",
    ]


def test_a_register_import_says_no_announcement_was_played():
    """A call connected while callrec was down says so, and that nothing was heard."""
    record = dataclasses.replace(
        ringing("1795514341.7", start=T0),
        consent=Consent.SERVICE_UNAVAILABLE,
        languages=(),
        evidence=(Fact(kind=Kind.NOTE, at=T0, note=UNAVAILABLE),),
    )
    lines = statement(record)
    assert "At 10:15:03: no announcement was played: callrec was unavailable" in lines[1]
    assert lines[-2:] == [
        "Languages heard to the end: none.",
        "Outcome: callrec was unavailable; nothing was recorded.",
    ]


def test_a_row_from_before_evidence_says_none_was_kept():
    """Old rows are not made to look as if nothing happened: the statement says why it is empty."""
    lines = statement(dataclasses.replace(ringing(start=T0), consent=Consent.ABANDONED))
    assert "No consent evidence was kept for this call" in lines[1]


def test_a_fact_on_the_next_day_carries_its_date():
    """A call over midnight shows the date of the later fact."""
    late = T0.replace(hour=23, minute=59, second=50)
    record = dataclasses.replace(
        ringing(start=late),
        evidence=(Fact(kind=Kind.PRESSED, at=late + timedelta(seconds=15), digit="9"),),
    )
    assert "At 2026-12-03 00:00:05 UTC the caller pressed 9." in statement(record)

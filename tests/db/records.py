"""Call records to store in the database tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

T0 = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


def ringing(uniqueid: str = "1795514341.6", *, start: datetime = T0, **changes: Any) -> CallRecord:
    """A call that has just arrived: consent pending, nothing recorded yet."""
    record = CallRecord(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        direction=Direction.INBOUND,
        caller_number="48221234567",
        caller_e164="+48221234567",
        dialled_number="5551000",
        agent=None,
        languages=("pl", "en"),
        consent=Consent.PENDING,
        started_at=start,
        answered_at=None,
        ended_at=None,
        recording_path=None,
        recording_status=RecordingStatus.NONE,
        duration_seconds=None,
        size_bytes=None,
        sha256=None,
        retention_policy="months-6",
        delete_after=start + timedelta(days=183),
    )
    return dataclasses.replace(record, **changes)


def finished(record: CallRecord) -> CallRecord:
    """The same call answered, ended and with its recording complete."""
    start = record.started_at
    return dataclasses.replace(
        record,
        agent="agent100",
        consent=Consent.GIVEN,
        answered_at=start + timedelta(seconds=14),
        ended_at=start + timedelta(seconds=95, microseconds=5),
        recording_path=f"2026/11/24/{record.uniqueid}.wav",
        recording_status=RecordingStatus.COMPLETE,
        duration_seconds=81.25,
        size_bytes=5_000_000_000,  # beyond 32 bits
        sha256="ab" * 32,
    )

"""The call record: what callrec keeps about one call, shared by the flow, storage and database.

A ``CallRecord`` is an immutable snapshot. The call controller makes a new one at every step
(``dataclasses.replace``) and hands it to the database writer, which stores the latest snapshot
of each call under its Asterisk ``uniqueid``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Direction(enum.StrEnum):
    """Which way the call went, seen from the organisation."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Consent(enum.StrEnum):
    """The outcome of the consent step."""

    PENDING = "pending"  # the announcement is still playing
    GIVEN = "given"  # the caller stayed on past the announcement (seed 000 §4.2)
    ABANDONED = "abandoned"  # the caller hung up during the announcement
    DECLINED = "declined"  # the caller pressed the decline key
    INTERRUPTED = "interrupted"  # the service stopped mid-announcement; connected unrecorded


class RecordingStatus(enum.StrEnum):
    """Where the call's audio file stands."""

    NONE = "none"  # nothing is recorded for this call, on purpose
    RECORDING = "recording"  # MixMonitor has been asked to record
    COMPLETE = "complete"  # the WAV is closed; size, duration and SHA-256 are known
    EMPTY = "empty"  # consent was given but the call was never bridged, so no audio exists
    FAILED = "failed"  # recording was asked for but no usable file appeared (the call went on)


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One call's metadata. Times are timezone-aware UTC."""

    uniqueid: str
    linkedid: str
    direction: Direction
    caller_number: str | None
    dialled_number: str
    agent: str | None  # the answering agent's endpoint or extension
    languages: tuple[str, ...]
    consent: Consent
    started_at: datetime
    answered_at: datetime | None  # when the agent answered
    ended_at: datetime | None
    recording_path: str | None  # relative to the recordings folder, POSIX separators
    recording_status: RecordingStatus
    duration_seconds: float | None
    size_bytes: int | None
    sha256: str | None
    retention_policy: str

    def to_json(self) -> dict[str, object]:
        """The record as JSON-ready values (ISO 8601 times, lists for tuples)."""
        result: dict[str, object] = {}
        for key, value in vars(self).items():
            if isinstance(value, datetime):
                result[key] = value.isoformat()
            elif isinstance(value, tuple):
                result[key] = list(value)
            else:
                result[key] = value
        return result

    @property
    def finished(self) -> bool:
        """Whether nothing more will change: the call ended and its recording is settled."""
        return self.ended_at is not None and self.recording_status != RecordingStatus.RECORDING

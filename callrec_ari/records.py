"""The call record: what callrec keeps about one call, shared by the flow, storage and database.

A ``CallRecord`` is an immutable snapshot. The call controller makes a new one at every step
(``dataclasses.replace``) and hands it to the database writer, which stores the latest snapshot
of each call under its Asterisk ``uniqueid``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.evidence.facts import Fact, evidence_from_json, evidence_to_json, languages_heard


class Direction(enum.StrEnum):
    """Which way the call went, seen from the organisation."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Consent(enum.StrEnum):
    """The outcome of the consent step."""

    PENDING = "pending"  # the announcement is still playing
    # The caller stayed on past the announcement (seed 000 §4.2); outbound: the callee
    # pressed the agree key after the whole announcement (seed 004).
    GIVEN = "given"
    ABANDONED = "abandoned"  # the caller hung up during the announcement
    DECLINED = "declined"  # the caller pressed the decline key (outbound: any key but agree)
    INTERRUPTED = "interrupted"  # the service stopped mid-announcement; connected unrecorded
    OPTED_OUT = "opted_out"  # the number is on the do-not-record list; connected unrecorded
    # Outbound only: the callee did not press the agree key within the route's timeout.
    NO_RESPONSE = "no_response"
    # callrec was not running (or let go of the call): the dialplan connected it unrecorded
    # and wrote it to the register, imported when callrec was back.
    SERVICE_UNAVAILABLE = "service_unavailable"
    # Consent given, then withdrawn during the conversation with the withdrawal key (seeds 001
    # and 004): recording stopped at ``withdrawn_at``, and what was recorded is deleted.
    WITHDRAWN = "withdrawn"
    # callrec could not keep up (flow/overload.py): connected unrecorded at once, no
    # announcement, so the caller never waits for it (fail-open, as when it is down).
    OVERLOADED = "overloaded"


class RecordingStatus(enum.StrEnum):
    """Where the call's audio file stands."""

    NONE = "none"  # nothing is recorded for this call, on purpose
    RECORDING = "recording"  # MixMonitor has been asked to record
    COMPLETE = "complete"  # the WAV is closed; size, duration and SHA-256 are known
    EMPTY = "empty"  # consent was given but the call was never bridged, so no audio exists
    FAILED = "failed"  # recording was asked for but no usable file appeared (the call went on)
    DELETED = "deleted"  # the file was deleted by retention or erasure; the row is anonymised
    # (or, with consent "withdrawn", deleted when the call ended; the row keeps its metadata)


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One call's metadata. Times are timezone-aware UTC."""

    uniqueid: str
    linkedid: str
    direction: Direction
    caller_number: str | None  # as the caller's network sent it
    caller_e164: str | None  # the same number normalised to E.164, if it is a phone number
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
    # When retention ends: started_at plus the policy's days. None only on rows stored before
    # callrec kept retention dates; the purge computes theirs from the policy.
    delete_after: datetime | None
    # What the consent step can prove (evidence/facts.py); empty on rows stored before it.
    evidence: tuple[Fact, ...] = ()

    @property
    def languages_played(self) -> tuple[str, ...]:
        """The languages the caller heard the announcement in to its end (``languages`` is the
        route's list, which a caller who hangs up early does not hear in full)."""
        return languages_heard(self.evidence)

    # When the caller withdrew consent mid-call (consent "withdrawn"); None otherwise.
    withdrawn_at: datetime | None = None
    # The two legs MixMonitor writes beside the mix (recording/legs.py): the data subject's
    # voice alone and the staff member's alone. None when unknown (no leg, or not settled).
    caller_leg_size_bytes: int | None = None
    caller_leg_sha256: str | None = None
    agent_leg_size_bytes: int | None = None
    agent_leg_sha256: str | None = None
    # What cut the recording short: "pbx" when Asterisk died mid-call and the file it left
    # open was repaired (recording/repair.py); the audio then ends at that moment.
    interrupted_by: str | None = None
    # Every agent who was on the call, joined to left (agent_legs.py): after a transfer more
    # than one; ``agent`` stays the first. Empty on calls nobody answered, and on snapshots
    # from before legs were kept.
    agent_legs: tuple[AgentLeg, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The record as JSON-ready values (ISO 8601 times, lists for tuples)."""
        result: dict[str, object] = {}
        for key, value in vars(self).items():
            if key == "evidence":
                result[key] = evidence_to_json(self.evidence)
            elif key == "agent_legs":
                result[key] = [leg.to_json() for leg in self.agent_legs]
            elif isinstance(value, datetime):
                result[key] = value.isoformat()
            elif isinstance(value, tuple):
                result[key] = list(value)
            else:
                result[key] = value
        return result

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallRecord:
        """The record ``to_json`` produced; raises ``ValueError`` or ``KeyError`` if malformed."""
        return cls(
            uniqueid=str(data["uniqueid"]),
            linkedid=str(data["linkedid"]),
            direction=Direction(data["direction"]),
            caller_number=_optional_str(data["caller_number"]),
            caller_e164=_optional_str(data["caller_e164"]),
            dialled_number=str(data["dialled_number"]),
            agent=_optional_str(data["agent"]),
            languages=tuple(str(language) for language in data["languages"]),
            consent=Consent(data["consent"]),
            started_at=_time(data["started_at"]),
            answered_at=_optional_time(data["answered_at"]),
            ended_at=_optional_time(data["ended_at"]),
            recording_path=_optional_str(data["recording_path"]),
            recording_status=RecordingStatus(data["recording_status"]),
            duration_seconds=_optional_float(data["duration_seconds"]),
            size_bytes=None if data["size_bytes"] is None else int(data["size_bytes"]),
            sha256=_optional_str(data["sha256"]),
            retention_policy=str(data["retention_policy"]),
            delete_after=_optional_time(data["delete_after"]),
            evidence=evidence_from_json(data.get("evidence")),
            # Absent from snapshots written before withdrawal existed.
            withdrawn_at=_optional_time(data.get("withdrawn_at")),
            # Absent from snapshots written before legs were recorded.
            caller_leg_size_bytes=_optional_int(data.get("caller_leg_size_bytes")),
            caller_leg_sha256=_optional_str(data.get("caller_leg_sha256")),
            agent_leg_size_bytes=_optional_int(data.get("agent_leg_size_bytes")),
            agent_leg_sha256=_optional_str(data.get("agent_leg_sha256")),
            # Absent from snapshots written before repaired recordings were flagged.
            interrupted_by=_optional_str(data.get("interrupted_by")),
            # Absent from snapshots written before agent legs were kept.
            agent_legs=tuple(AgentLeg.from_json(leg) for leg in data.get("agent_legs") or ()),
        )

    @property
    def finished(self) -> bool:
        """Whether nothing more will change: the call ended and its recording is settled."""
        return self.ended_at is not None and self.recording_status != RecordingStatus.RECORDING


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"Timestamp {value!r} has no timezone.")
    return moment


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)

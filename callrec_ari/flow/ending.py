"""How a recorded call ends: its recording measured, or discarded because the caller (or an
outbound callee) withdrew consent during the conversation (seeds 001 and 004). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import events as ev
from callrec_ari.flow import notes
from callrec_ari.flow.call import Call, Phase, noted, with_record
from callrec_ari.records import Consent, RecordingStatus


def settled(call: Call, event: ev.RecordingSettled) -> Call:
    """The call once its recording is measured, or deleted because the caller withdrew."""
    if event.status == RecordingStatus.DELETED:
        return discarded(call, event.withdrawn_at)
    status = event.status
    if status == RecordingStatus.EMPTY and call.record.answered_at is not None:
        # Bridged with an agent yet no audio: MixMonitor failed, not "nothing said".
        status = RecordingStatus.FAILED
    at = call.record.ended_at
    if event.interrupted_by is not None and at is not None:
        call = noted(call, Fact(kind=Kind.NOTE, at=at, note=notes.PBX_FAILED))
    return replace(
        with_record(
            call,
            recording_status=status,
            duration_seconds=event.duration_seconds,
            size_bytes=event.size_bytes,
            sha256=event.sha256,
            caller_leg_size_bytes=event.caller_leg_size_bytes,
            caller_leg_sha256=event.caller_leg_sha256,
            agent_leg_size_bytes=event.agent_leg_size_bytes,
            agent_leg_sha256=event.agent_leg_sha256,
            interrupted_by=event.interrupted_by,
        ),
        phase=Phase.DONE,
    )


def withdrawn(call: Call, at: datetime) -> Call:
    """The caller withdrew consent mid-call; only a call recorded with consent can withdraw."""
    if call.phase == Phase.DONE or call.record.consent != Consent.GIVEN:
        return call  # a repeated key, or a call that was never recorded
    withdrawn = with_record(call, consent=Consent.WITHDRAWN, withdrawn_at=at)
    return noted(withdrawn, Fact(kind=Kind.WITHDRAWN, at=at))


def discarded(call: Call, marker_at: datetime | None) -> Call:
    """The recording was deleted because the caller withdrew: the row keeps that it existed
    (consent ``withdrawn``, when, status ``deleted``), nothing of the audio itself."""
    at = call.record.withdrawn_at or marker_at or call.record.ended_at
    if at is not None and not any(f.kind == Kind.WITHDRAWN for f in call.record.evidence):
        call = noted(call, Fact(kind=Kind.WITHDRAWN, at=at))  # seen only in the marker
    call = with_record(
        call,
        consent=Consent.WITHDRAWN,
        withdrawn_at=at,
        recording_status=RecordingStatus.DELETED,
        recording_path=None,
        duration_seconds=None,
        size_bytes=None,
        sha256=None,
        caller_leg_size_bytes=None,
        caller_leg_sha256=None,
        agent_leg_size_bytes=None,
        agent_leg_sha256=None,
    )
    return replace(call, phase=Phase.DONE)

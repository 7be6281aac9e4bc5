"""Erasure and consent withdrawal (GDPR Art. 17 and 7(3), seed 000 §4.6, seed 001).

Withdrawing consent means every earlier recording of the person is deleted for good. All of
a number's calls are marked with ``erasure_requested_at``; those that may go now are reduced
at once (file deleted, row anonymised, by ``lifecycle.reduce``). Two kinds wait, marked, and
the purge job reduces them later: calls under an active legal hold (until the hold ends)
and calls still being recorded (until their recording settles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.copies.register import CopyView, copies_of
from callrec_ari.db.models import Call, DoNotRecord
from callrec_ari.errors import RecordingError
from callrec_ari.lifecycle.reduce import ERASURE, Doomed, reduce_calls
from callrec_ari.numbers import parse_e164
from callrec_ari.reasons import is_blank
from callrec_ari.recording.paths import service_path
from callrec_ari.records import RecordingStatus
from callrec_ari.rights import donotrecord
from callrec_ari.rights.audit import linked_request, record_action, require_rights_role
from callrec_ari.rights.subject import calls_of_number, hold_cases
from callrec_ari.storage.recordings import Offsite

RECORDING = RecordingStatus.RECORDING.value
LEGAL_HOLD = "legal hold"
STILL_RECORDING = "still recording"


@dataclass(frozen=True, kw_only=True)
class Pending:
    """A call kept for now, marked for erasure when what keeps it ends."""

    uniqueid: str
    why: str  # LEGAL_HOLD or STILL_RECORDING
    cases: tuple[str, ...]  # the holds' case references


@dataclass(frozen=True, kw_only=True)
class Erasure:
    """What one erasure did."""

    number: str
    erased: tuple[str, ...]  # uniqueids reduced now
    files_deleted: int
    files_missing: int  # recordings already gone (deleted by hand, or never written)
    pending: tuple[Pending, ...]
    do_not_record: bool  # the number is on the do-not-record list afterwards
    copies: tuple[CopyView, ...] = ()  # copies of these recordings that left callrec earlier


async def erase_number(
    session: AsyncSession,
    recordings_dir: Path,
    number: str,
    *,
    actor: Actor,
    now: datetime,
    region: str,
    request_id: int | None = None,
    do_not_record: bool = False,
    reason: str | None = None,
    offsite: Offsite | None = None,
) -> Erasure:
    """Erase every recording and personal field kept about ``number``, except held calls.

    Nothing changes if any recording path to delete points outside ``recordings_dir``
    (``RecordingError``): such a row needs a person to look at it first. With object storage
    (``offsite``) the outbox files and stored objects go too; ``StorageError`` if the store
    cannot be reached (the caller's transaction then changes nothing: try again).
    """
    require_rights_role(actor, "erase calls")
    e164 = parse_e164(number, region)
    why = None if is_blank(reason) else (reason or "").strip()
    await linked_request(session, request_id, number=e164)
    calls = await calls_of_number(session, e164, region)
    holds = await hold_cases(session, [call.id for call in calls], now)
    kept = [call for call in calls if call.id in holds or call.recording_status == RECORDING]
    going = [call for call in calls if call not in kept]
    for call in going:
        _check_path(recordings_dir, call)
    pending = tuple(_pending(call, holds) for call in kept)
    outside = await copies_of(session, [call.id for call in calls])
    erased = tuple(call.uniqueid for call in going)
    if calls:
        # Marks every call, kept ones included, so that the purge finishes the job later.
        await session.execute(
            update(Call)
            .where(Call.id.in_([call.id for call in calls]), Call.erasure_requested_at.is_(None))
            .values(erasure_requested_at=now, erasure_request_id=request_id, updated_at=now)
        )
    doomed = [Doomed(call_id=call.id, recording_path=call.recording_path) for call in going]
    reduced = await reduce_calls(
        session, recordings_dir, doomed, reason=ERASURE, now=now, offsite=offsite
    )
    if reduced.refused:  # _check_path agreed with reduce_calls, so only a changed rule gets here
        raise RecordingError(f"Erasure of {e164} refused {len(reduced.refused)} recording paths.")
    if do_not_record:
        await donotrecord.put(
            session,
            e164,
            reason=why or "Asked not to be recorded when erasing their calls.",
            actor=actor,
            now=now,
            request_id=request_id,
        )
    listed = await session.get(DoNotRecord, e164) is not None
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="erased",
        now=now,
        detail={
            "number": e164,
            "erased": list(erased),
            "files_deleted": reduced.files_deleted,
            "files_missing": reduced.files_missing,
            "keys_destroyed": reduced.keys_destroyed,
            "pending": [
                {"call": p.uniqueid, "why": p.why, "cases": list(p.cases)} for p in pending
            ],
            "do_not_record": listed,
            "reason": why,
            "copies_outside": [copy.to_json() for copy in outside],
        },
    )
    await session.flush()
    return Erasure(
        number=e164,
        erased=erased,
        files_deleted=reduced.files_deleted,
        files_missing=reduced.files_missing,
        pending=pending,
        do_not_record=listed,
        copies=outside,
    )


def _pending(call: Call, holds: dict[int, tuple[str, ...]]) -> Pending:
    if call.id in holds:
        return Pending(uniqueid=call.uniqueid, why=LEGAL_HOLD, cases=holds[call.id])
    return Pending(uniqueid=call.uniqueid, why=STILL_RECORDING, cases=())


def _check_path(recordings_dir: Path, call: Call) -> None:
    if call.recording_path is None:
        return
    try:
        service_path(recordings_dir, call.recording_path)
    except RecordingError:
        raise RecordingError(
            f"Call {call.uniqueid!r} names a recording outside the recordings folder "
            f"({call.recording_path!r}); nothing was erased, fix that row first."
        ) from None

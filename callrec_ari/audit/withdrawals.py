"""The audit entry of a recording deleted because the caller withdrew consent mid-call.

Written by the call writer in the transaction that stores the call's row as ``withdrawn`` and
``deleted``, so the trail has the entry exactly when the row says so. Storing the same
snapshot again (a journal replay after a crash) adds nothing: only a row not already stored
as withdrawn and deleted gets an entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.db.models import Call
from callrec_ari.recording.paths import relative_path
from callrec_ari.records import CallRecord, Consent, RecordingStatus

SYSTEM_ACTOR = "system:callrec"
ACTION = "call.withdrawn"


async def audit_withdrawals(
    session: AsyncSession, records: Sequence[CallRecord], *, now: datetime
) -> int:
    """Append one entry per call of ``records`` newly stored as withdrawn and deleted; return
    how many. Call it in the transaction that stores ``records``, before storing them."""
    deleted = {
        record.uniqueid: record
        for record in records
        if record.consent == Consent.WITHDRAWN
        and record.recording_status == RecordingStatus.DELETED
    }
    if not deleted:
        return 0
    stored = set(
        await session.scalars(
            select(Call.uniqueid).where(
                Call.uniqueid.in_(deleted),
                Call.consent == Consent.WITHDRAWN.value,
                Call.recording_status == RecordingStatus.DELETED.value,
            )
        )
    )
    added = 0
    for uniqueid, record in deleted.items():
        if uniqueid in stored:
            continue
        await trail.append(
            session,
            at=now,
            actor=SYSTEM_ACTOR,
            action=ACTION,
            target=uniqueid,
            detail={
                "why": "the caller pressed the withdrawal key during the call",
                "withdrawn_at": _iso(record.withdrawn_at),
                "ended_at": _iso(record.ended_at),
                # The file's name holds no personal data: the day and Asterisk's uniqueid.
                "recording": str(relative_path(record.uniqueid, record.started_at)),
                "recording_status": RecordingStatus.DELETED.value,
            },
        )
        added += 1
    return added


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()

"""Recordings that need a decision: a call whose recording failed while its file is kept.

A file Asterisk left behind that callrec could not repair or measure (no WAV header, unreadable;
``recording/repair.py``) settles as ``failed`` but keeps its path on the row: it is personal
data under the row's retention, not an orphan to sweep, and may still be evidence someone can
recover. ``callrec orphans`` and the retention report name these so the DPO can decide (keep,
have it recovered, or erase the call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.models import Call
from callrec_ari.records import RecordingStatus

LISTED = 100  # the oldest ones are listed; the total is always given


@dataclass(frozen=True, kw_only=True)
class Undecided:
    """A kept call whose recording failed but whose file is still on disk."""

    uniqueid: str
    relative_path: str
    ended_at: datetime | None
    interrupted_by: str | None  # "pbx": Asterisk died during the call
    delete_after: datetime | None


def needs_decision() -> ColumnElement[bool]:
    """Rows not purged whose recording failed with a file path still kept."""
    return and_(
        Call.purged_at.is_(None),
        Call.recording_status == RecordingStatus.FAILED.value,
        Call.recording_path.is_not(None),
    )


async def read_undecided(session: AsyncSession, limit: int = LISTED) -> tuple[list[Undecided], int]:
    """The oldest ``limit`` calls that need a decision, and how many there are in all."""
    total = await session.scalar(select(func.count()).where(needs_decision()))
    rows = await session.execute(
        select(
            Call.uniqueid,
            Call.recording_path,
            Call.ended_at,
            Call.interrupted_by,
            Call.delete_after,
        )
        .where(needs_decision())
        .order_by(Call.started_at, Call.id)
        .limit(limit)
    )
    found = [
        Undecided(
            uniqueid=uniqueid,
            relative_path=path,
            ended_at=ended_at,
            interrupted_by=interrupted_by,
            delete_after=delete_after,
        )
        for uniqueid, path, ended_at, interrupted_by, delete_after in rows
        if path is not None
    ]
    return found, total or 0


def describe(call: Undecided) -> str:
    """One line for a person: which file, which call, why, and until when it is kept."""
    why = "Asterisk died during the call" if call.interrupted_by == "pbx" else "recording failed"
    until = call.delete_after.date().isoformat() if call.delete_after else "no date"
    return (
        f"needs a decision {call.relative_path}  call {call.uniqueid}  {why}; the file could "
        f"not be read as a recording  kept until {until}"
    )

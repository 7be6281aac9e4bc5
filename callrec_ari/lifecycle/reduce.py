"""Deleting a call's recording and reducing its row to an anonymous statistic.

Used by the retention purge and by erasure alike. The file goes first, then the row, so a
crash in between leaves a row pointing at a file that is already gone; running again finds
the row, treats the missing file as deleted, and reduces the row. No file is ever left
behind by a reduced row.

What a reduced row keeps: its id and Asterisk ``uniqueid`` (technical, no personal data),
direction, the organisation's own dialled number, languages, consent outcome, start, answer
and end times, talk duration, policy and ``delete_after``: enough for call statistics. What
goes: the caller's number (both forms), the agent, the file path, size and SHA-256, any
restriction note, and every correction (which holds old values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import structlog
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.models import Call, CallCorrection
from callrec_ari.errors import RecordingError
from callrec_ari.recording.paths import service_path
from callrec_ari.records import RecordingStatus

log = structlog.get_logger(__name__)

RETENTION = "retention"
ERASURE = "erasure"


@dataclass(frozen=True, kw_only=True)
class Doomed:
    """A call about to be reduced: its row id and the stored relative recording path."""

    call_id: int
    recording_path: str | None


@dataclass(frozen=True, kw_only=True)
class Reduced:
    """What one ``reduce_calls`` run did."""

    reduced: int  # rows reduced
    files_deleted: int  # files that existed and were removed
    files_missing: int  # rows whose file was already gone (deleted by hand, or a rerun)
    refused: tuple[int, ...]  # call ids left untouched: their stored path is not acceptable


def delete_recording(recordings_dir: Path, relative: str) -> bool:
    """Delete one recording and its completion marker; False if the file was already gone.

    Raises ``RecordingError`` if ``relative`` points outside ``recordings_dir``: such a path
    is never followed.
    """
    path = service_path(recordings_dir, PurePosixPath(relative))
    existed = path.exists()
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".done").unlink(missing_ok=True)
    return existed


async def reduce_calls(
    session: AsyncSession,
    recordings_dir: Path,
    calls: Sequence[Doomed],
    *,
    reason: str,
    now: datetime,
) -> Reduced:
    """Delete the files of ``calls``, then anonymise their rows, in the caller's transaction.

    The caller commits; files are deleted before that, which is the safe order (see the
    module docstring). A call whose stored path escapes the recordings folder is left as it
    is, logged, and listed in ``refused``.
    """
    deleted = missing = 0
    refused: list[int] = []
    done: list[int] = []
    for call in calls:
        if call.recording_path is not None:
            try:
                existed = delete_recording(recordings_dir, call.recording_path)
            except RecordingError as exc:
                log.error("purge.path_refused", call_row=call.call_id, error=str(exc))
                refused.append(call.call_id)
                continue
            deleted += existed
            missing += not existed
        done.append(call.call_id)
    if done:
        await session.execute(delete(CallCorrection).where(CallCorrection.call_id.in_(done)))
        await session.execute(
            update(Call)
            .where(Call.id.in_(done))
            .values(
                caller_number=None,
                caller_e164=None,
                agent=None,
                recording_path=None,
                size_bytes=None,
                sha256=None,
                restricted_at=None,
                restricted_by=None,
                restriction_reason=None,
                purged_at=now,
                purge_reason=reason,
                updated_at=now,
            )
        )
        # Rows that had a recording say so; rows that never had one keep "none".
        await session.execute(
            update(Call)
            .where(Call.id.in_(done), Call.recording_status != RecordingStatus.NONE.value)
            .values(recording_status=RecordingStatus.DELETED.value)
        )
    return Reduced(
        reduced=len(done), files_deleted=deleted, files_missing=missing, refused=tuple(refused)
    )

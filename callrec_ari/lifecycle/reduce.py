"""Deleting a call's recording and reducing its row to an anonymous statistic.

Used by the retention purge and by erasure alike. The file goes first, then the row, so a
crash in between leaves a row pointing at a file that is already gone; running again finds
the row, treats the missing file as deleted, and reduces the row. No file is ever left
behind by a reduced row.

What a reduced row keeps: its id and Asterisk ``uniqueid`` (technical, no personal data),
direction, the organisation's own dialled number, languages, consent outcome, start, answer
and end times, talk duration, policy and ``delete_after``: enough for call statistics. What
goes: the caller's number (both forms), the agent, the file path, size and SHA-256 (of the
mix and of both legs, whose files go with the mix), the recording's data key (so copies of
its encrypted files, in a backup too, can no longer be decrypted), any
restriction note, and every correction (which holds old values).

With object storage (``offsite``) the recording's files in the outbox and its objects in the
store go too, after the local files and before the rows (``storage/recordings.py``); if the
store cannot be reached the caller's transaction fails, the rows stay as they were, and the
next run deletes what is left.

The unlinks run in a worker thread, ``FILES_PER_THREAD_CALL`` at a time, so that a purge of
thousands of files never stalls the event loop the calls run on; the rows are changed only
after the thread has finished, so the order above holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.crypto.store import destroy_keys
from callrec_ari.db.models import Call, CallAgent, CallCorrection
from callrec_ari.errors import RecordingError
from callrec_ari.recording import audio
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.paths import service_path
from callrec_ari.records import RecordingStatus
from callrec_ari.storage.recordings import Offsite, remove_offsite

log = structlog.get_logger(__name__)

SYSTEM_ACTOR = "callrec"  # the trail's actor for what callrec does by its own rules
RETENTION = "retention"
ERASURE = "erasure"
FILES_PER_THREAD_CALL = 100  # a worker-thread call stays short; cancelling waits at most one


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
    keys_destroyed: int = 0  # data keys of encrypted recordings destroyed (crypto-erasure)


def delete_recording(recordings_dir: Path, relative: str) -> bool:
    """Delete one recording, its two legs (plain or encrypted) and its completion marker;
    False if the mix was already gone. ``reduce_calls`` destroys the data key as well.

    Raises ``RecordingError`` if ``relative`` points outside ``recordings_dir``: such a path
    is never followed.
    """
    path = service_path(recordings_dir, PurePosixPath(relative))
    existed = audio.remove(path)
    for leg in leg_files(path):
        audio.remove(leg)
    path.with_name(path.name + ".done").unlink(missing_ok=True)
    return existed


@dataclass(kw_only=True)
class _Deletions:
    """The file side of ``reduce_calls``, filled in a worker thread (no event loop there)."""

    deleted: int = 0
    missing: list[str] = field(default_factory=list)  # relative paths found nowhere here
    done: list[int] = field(default_factory=list)
    refused_errors: list[tuple[int, str]] = field(default_factory=list)

    def delete(self, recordings_dir: Path, calls: Sequence[Doomed]) -> None:
        """Delete the files of ``calls``; a path outside the folder is refused, not followed."""
        for call in calls:
            if call.recording_path is not None:
                try:
                    existed = delete_recording(recordings_dir, call.recording_path)
                except RecordingError as exc:
                    self.refused_errors.append((call.call_id, str(exc)))
                    continue
                self.deleted += existed
                if not existed:
                    self.missing.append(call.recording_path)
            self.done.append(call.call_id)


async def reduce_calls(
    session: AsyncSession,
    recordings_dir: Path,
    calls: Sequence[Doomed],
    *,
    reason: str,
    now: datetime,
    offsite: Offsite | None = None,
) -> Reduced:
    """Delete the files of ``calls`` (and, with ``offsite``, their outbox files and stored
    objects), then anonymise their rows, in the caller's transaction.

    The caller commits; files are deleted before that, which is the safe order (see the
    module docstring). A call whose stored path escapes the recordings folder is left as it
    is, logged, and listed in ``refused``.
    """
    files = _Deletions()
    for start in range(0, len(calls), FILES_PER_THREAD_CALL):
        chunk = calls[start : start + FILES_PER_THREAD_CALL]
        await asyncio.to_thread(files.delete, recordings_dir, chunk)
    for call_id, error in files.refused_errors:
        log.error("purge.path_refused", call_row=call_id, error=error)
    refused = [call_id for call_id, _ in files.refused_errors]
    done = files.done
    deleted, missing = files.deleted, len(files.missing)
    if offsite is not None:
        finished_paths = {c.recording_path for c in calls if c.call_id in set(done)}
        gone = await remove_offsite(offsite, sorted(p for p in finished_paths if p is not None))
        elsewhere = len(set(files.missing) & gone)  # not here, but in the outbox or the store
        deleted, missing = deleted + elsewhere, missing - elsewhere
    # The crypto-erasure: with the key row gone, no copy of the encrypted files (a backup)
    # can be decrypted any more. In the same transaction as the rows below.
    finished = set(done)
    destroyed = await destroy_keys(
        session, [c.recording_path for c in calls if c.call_id in finished and c.recording_path]
    )
    if destroyed:
        await trail.append(
            session,
            at=now,
            actor=SYSTEM_ACTOR,
            action="keys.destroyed",
            detail={"reason": reason, "recordings": destroyed},
        )
    if done:
        await session.execute(delete(CallCorrection).where(CallCorrection.call_id.in_(done)))
        # Who was on the call goes with ``agent``: the row keeps no staff member's name.
        await session.execute(
            delete(CallAgent).where(
                CallAgent.call_uniqueid.in_(select(Call.uniqueid).where(Call.id.in_(done)))
            )
        )
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
                caller_leg_size_bytes=None,
                caller_leg_sha256=None,
                agent_leg_size_bytes=None,
                agent_leg_sha256=None,
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
        reduced=len(done),
        files_deleted=deleted,
        files_missing=missing,
        refused=tuple(refused),
        keys_destroyed=destroyed,
    )

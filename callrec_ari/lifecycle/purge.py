"""The retention purge: reduce every due call, batch by batch, safe to interrupt and rerun.

Each batch is one transaction: lock the batch's rows, delete their files, reduce the rows,
commit. A crash after the files went but before the commit leaves rows pointing at missing
files; the next run finds them still due, counts the files as missing and reduces the rows.
Rows whose stored path leaves the recordings folder are refused and left as they are; rows
without a date whose policy is not configured are counted and left as they are.

Locking keeps a legal hold placed during a purge from losing the race (``locks.py``):
PostgreSQL locks the batch's rows (``FOR UPDATE``) and checks the holds again once they are
locked; SQLite takes its write lock before reading the batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.config import RetentionPolicy
from callrec_ari.db.models import Call
from callrec_ari.db.session import describe_error
from callrec_ari.errors import DatabaseError, RecordingError
from callrec_ari.lifecycle.due import (
    DueCall,
    due_batch,
    due_call,
    kept_restricted,
    scopes,
    unknown_policies,
)
from callrec_ari.lifecycle.held import held_call_ids
from callrec_ari.lifecycle.locks import take_write_lock
from callrec_ari.lifecycle.reduce import ERASURE, RETENTION, Reduced, reduce_calls
from callrec_ari.lifecycle.retention import delete_after
from callrec_ari.recording import audio
from callrec_ari.recording.paths import service_path
from callrec_ari.storage.recordings import Offsite, held_offsite

log = structlog.get_logger(__name__)

MAX_LISTED = 100  # refused calls named in a report; the count covers all of them

_COUNT_CHUNK = 500  # ids per IN (...) list, well below both databases' parameter limits


@dataclass(frozen=True, kw_only=True)
class RefusedCall:
    """A due call left untouched because its stored path is outside the recordings folder."""

    uniqueid: str
    recording_path: str


@dataclass(frozen=True, kw_only=True)
class PurgeReport:
    """What a purge did, or in a dry run would do."""

    dry_run: bool
    reduced: int  # rows reduced to statistics
    by_retention: int
    by_erasure: int
    files_deleted: int  # files that existed and were deleted
    files_missing: int  # rows whose file was already gone (deleted by hand, or a rerun)
    refused: int  # due rows left untouched: path outside the recordings folder
    refused_calls: tuple[RefusedCall, ...]  # the first MAX_LISTED of them
    unknown_policy: int  # rows without a date whose policy name is not configured
    unknown_policies: Mapping[str, int]  # policy name -> rows
    dates_filled: int  # rows without a delete_after that got one from their policy
    kept_restricted: int = 0  # rows past their date kept because processing is restricted


@dataclass(kw_only=True)
class _Tally:
    reduced: int = 0
    by_reason: dict[str, int] = field(default_factory=lambda: {RETENTION: 0, ERASURE: 0})
    deleted: int = 0
    missing: int = 0
    refused: list[RefusedCall] = field(default_factory=list)
    refused_count: int = 0

    def add(self, reason: str, done: Reduced, calls: Sequence[DueCall]) -> None:
        self.reduced += done.reduced
        self.by_reason[reason] += done.reduced
        self.deleted += done.files_deleted
        self.missing += done.files_missing
        refused = set(done.refused)
        for call in calls:
            if call.call_id in refused and call.recording_path is not None:
                self.refuse(call.uniqueid, call.recording_path)

    def refuse(self, uniqueid: str, path: str) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED:
            self.refused.append(RefusedCall(uniqueid=uniqueid, recording_path=path))

    def preview(self, recordings_dir: Path, calls: Sequence[DueCall]) -> list[str]:
        """Count what reducing ``calls`` would do, touching nothing; the recording paths not
        found in the recordings folder (for a look in the outbox and the store)."""
        elsewhere: list[str] = []
        for call in calls:
            if call.recording_path is not None:
                try:
                    path = service_path(recordings_dir, call.recording_path)
                except RecordingError:
                    self.refuse(call.uniqueid, call.recording_path)
                    continue
                exists = audio.exists(path)  # plain or sealed
                self.deleted += exists
                self.missing += not exists
                if not exists:
                    elsewhere.append(call.recording_path)
            self.reduced += 1
            self.by_reason[call.reason] += 1
        return elsewhere

    def found_elsewhere(self, count: int) -> None:
        """``count`` of the files counted missing are in the outbox or the store."""
        self.deleted += count
        self.missing -= count


async def run_purge(
    sessions: async_sessionmaker[AsyncSession],
    *,
    recordings_dir: Path,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    batch_size: int = 500,
    dry_run: bool = False,
    only_call_ids: Collection[int] | None = None,
    on_progress: Callable[[int], None] | None = None,
    between_batches: Callable[[], Awaitable[None]] | None = None,
    offsite: Offsite | None = None,
) -> PurgeReport:
    """Reduce every call due at ``now`` (or only those of ``only_call_ids`` that are due);
    with ``offsite`` (object storage) their outbox files and stored objects go too.

    ``on_progress`` gets the number of due rows each batch handled; ``between_batches`` is
    awaited after each committed batch (the service paces its purge with it). Raises
    ``DatabaseError`` or ``RecordingError`` if a batch cannot finish; batches already done
    stay done, and running again completes the rest.
    """
    try:
        return await _purge(
            sessions,
            recordings_dir=recordings_dir,
            retention=retention,
            now=now,
            batch_size=batch_size,
            dry_run=dry_run,
            only_call_ids=only_call_ids,
            on_progress=on_progress,
            between_batches=between_batches,
            offsite=offsite,
        )
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"The purge stopped because the database refused a statement "
            f"({describe_error(exc)}); run it again."
        ) from exc
    except OSError as exc:
        where = f"the recording {exc.filename}" if exc.filename else "a recording"
        # Running again cannot help with permissions: the service's user needs the recordings
        # folder's shared group (README, "The recordings folder").
        remedy = (
            "give callrec's user the recordings folder's shared group, then run it again"
            if isinstance(exc, PermissionError)
            else "run it again"
        )
        raise RecordingError(
            f"The purge stopped because {where} could not be deleted "
            f"({exc.strerror or exc}); {remedy}."
        ) from exc


async def _purge(
    sessions: async_sessionmaker[AsyncSession],
    *,
    recordings_dir: Path,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    batch_size: int,
    dry_run: bool,
    only_call_ids: Collection[int] | None,
    on_progress: Callable[[int], None] | None,
    between_batches: Callable[[], Awaitable[None]] | None,
    offsite: Offsite | None,
) -> PurgeReport:
    async with sessions() as session:
        unknown = await unknown_policies(session, retention, only_call_ids)
        restricted = await _kept_restricted(session, retention, now, only_call_ids)
    for name, count in unknown.items():
        log.error("purge.unknown_policy", policy=name, rows=count)
    filled = 0
    if not dry_run:
        filled = await fill_delete_after(
            sessions, retention, batch_size=batch_size, only_call_ids=only_call_ids
        )
    tally = _Tally()
    for within in scopes(only_call_ids, batch_size):
        after_id = 0
        while True:
            async with sessions() as session, session.begin():
                if not dry_run:
                    await take_write_lock(session)
                query = due_batch(
                    now, retention, after_id=after_id, limit=batch_size, within=within
                )
                if not dry_run:
                    query = query.with_for_update()
                calls = [due_call(row) for row in (await session.execute(query)).all()]
                if not calls:
                    break
                after_id = calls[-1].call_id
                if dry_run:
                    elsewhere = tally.preview(recordings_dir, calls)
                    if offsite is not None and elsewhere:
                        tally.found_elsewhere(len(await held_offsite(offsite, elsewhere)))
                else:
                    await _reduce(session, recordings_dir, calls, tally, now, offsite=offsite)
            if on_progress is not None:
                on_progress(len(calls))
            if between_batches is not None:
                await between_batches()
    report = PurgeReport(
        dry_run=dry_run,
        reduced=tally.reduced,
        by_retention=tally.by_reason[RETENTION],
        by_erasure=tally.by_reason[ERASURE],
        files_deleted=tally.deleted,
        files_missing=tally.missing,
        refused=tally.refused_count,
        refused_calls=tuple(tally.refused),
        unknown_policy=sum(unknown.values()),
        unknown_policies=unknown,
        dates_filled=filled,
        kept_restricted=restricted,
    )
    log.info(
        "purge.done",
        dry_run=dry_run,
        reduced=report.reduced,
        files_deleted=report.files_deleted,
        files_missing=report.files_missing,
        refused=report.refused,
        unknown_policy=report.unknown_policy,
        kept_restricted=report.kept_restricted,
    )
    return report


async def _kept_restricted(
    session: AsyncSession,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    only_call_ids: Collection[int] | None,
) -> int:
    total = 0
    for within in scopes(only_call_ids, _COUNT_CHUNK):
        query = select(func.count()).where(kept_restricted(now, retention))
        if within is not None:
            query = query.where(Call.id.in_(within))
        total += await session.scalar(query) or 0
    return total


async def _reduce(
    session: AsyncSession,
    recordings_dir: Path,
    calls: Sequence[DueCall],
    tally: _Tally,
    now: datetime,
    *,
    offsite: Offsite | None,
) -> None:
    # On PostgreSQL a hold committed while this batch waited for its row locks is only
    # visible to a statement started after the locks were granted.
    held = await held_call_ids(session, [call.call_id for call in calls], now)
    for reason in (RETENTION, ERASURE):
        group = [call for call in calls if call.reason == reason and call.call_id not in held]
        if group:
            done = await reduce_calls(
                session, recordings_dir, group, reason=reason, now=now, offsite=offsite
            )
            tally.add(reason, done, group)


async def fill_delete_after(
    sessions: async_sessionmaker[AsyncSession],
    retention: Mapping[str, RetentionPolicy],
    *,
    batch_size: int = 500,
    only_call_ids: Collection[int] | None = None,
) -> int:
    """Give rows stored without a ``delete_after`` the date their policy sets; how many.

    Rows whose policy is not configured keep none: no date is made up for them.
    """
    filled = 0
    for within in scopes(only_call_ids, batch_size):
        after_id = 0
        while True:
            query = (
                select(Call.id, Call.started_at, Call.retention_policy)
                .where(
                    Call.delete_after.is_(None),
                    Call.retention_policy.in_(list(retention)),
                    Call.id > after_id,
                )
                .order_by(Call.id)
                .limit(batch_size)
            )
            if within is not None:
                query = query.where(Call.id.in_(within))
            async with sessions() as session, session.begin():
                rows = (await session.execute(query)).all()
                if not rows:
                    break
                after_id = rows[-1][0]
                await session.execute(
                    update(Call),
                    [
                        {"id": call_id, "delete_after": delete_after(started, retention[name])}
                        for call_id, started, name in rows
                    ],
                )
            filled += len(rows)
    return filled

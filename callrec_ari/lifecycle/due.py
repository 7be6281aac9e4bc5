"""Which calls are due for deletion now: the SQL the purge, its dry run and its count share.

A call is due when it is not yet purged, no active legal hold covers it, and either its
retention has run out (its stored ``delete_after``, or for old rows without one, its start
plus its policy's period) and its processing is not restricted (GDPR Art. 18: storage is
the one thing a restricted call may still undergo, so the restriction keeps it), or an
erasure is pending on it and its recording has finished (the data subject asked for it).
Rows are read in keyset batches (``id > last``), so a backlog of any size is never loaded
at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.config import RetentionPolicy
from callrec_ari.db.models import Call
from callrec_ari.lifecycle.held import is_held
from callrec_ari.lifecycle.reduce import ERASURE, RETENTION, Doomed
from callrec_ari.lifecycle.retention import started_by
from callrec_ari.records import RecordingStatus

# The columns ``due_batch`` reads, in order.
DueRow = Row[int, str, str | None, datetime | None, str, datetime | None]


@dataclass(frozen=True, kw_only=True)
class DueCall(Doomed):
    """A call the purge will reduce, and why."""

    uniqueid: str
    reason: str  # RETENTION or ERASURE
    delete_after: datetime | None  # None for a pending erasure of a row without a date


def pending_erasure() -> ColumnElement[bool]:
    """A condition on ``Call``: erasure was requested and nothing is being recorded any more."""
    return and_(
        Call.erasure_requested_at.is_not(None),
        Call.recording_status != RecordingStatus.RECORDING.value,
    )


def expired(now: datetime, retention: Mapping[str, RetentionPolicy]) -> ColumnElement[bool]:
    """A condition on ``Call``: retention has run out, by stored date or by policy name."""
    by_policy = [
        and_(Call.retention_policy == name, Call.started_at <= started_by(now, policy))
        for name, policy in retention.items()
    ]
    return or_(
        Call.delete_after <= now,
        and_(Call.delete_after.is_(None), or_(false(), *by_policy)),
    )


def is_due(now: datetime, retention: Mapping[str, RetentionPolicy]) -> ColumnElement[bool]:
    """A condition on ``Call``: the purge reduces this row now."""
    return and_(
        Call.purged_at.is_(None),
        not_(is_held(now)),
        or_(and_(expired(now, retention), Call.restricted_at.is_(None)), pending_erasure()),
    )


def kept_restricted(now: datetime, retention: Mapping[str, RetentionPolicy]) -> ColumnElement[bool]:
    """A condition on ``Call``: past its date, yet kept because its processing is restricted
    (and no erasure is pending on it); the purge takes it once the restriction is lifted."""
    return and_(
        Call.purged_at.is_(None),
        Call.restricted_at.is_not(None),
        expired(now, retention),
        not_(pending_erasure()),
    )


def unknown_policy(retention: Mapping[str, RetentionPolicy]) -> ColumnElement[bool]:
    """A condition on ``Call``: a live row without a date whose policy is not configured."""
    return and_(
        Call.purged_at.is_(None),
        Call.delete_after.is_(None),
        Call.erasure_requested_at.is_(None),
        Call.retention_policy.not_in(list(retention)),
    )


def scopes(only_call_ids: Collection[int] | None, size: int) -> list[list[int] | None]:
    """The id ranges to walk: everything (``[None]``), or the given ids in sorted chunks.

    Chunks keep every ``IN (...)`` list well below the databases' parameter limits.
    """
    if only_call_ids is None:
        return [None]
    ordered = sorted(set(only_call_ids))
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def due_batch(
    now: datetime,
    retention: Mapping[str, RetentionPolicy],
    *,
    after_id: int,
    limit: int,
    within: Sequence[int] | None,
) -> Select[int, str, str | None, datetime | None, str, datetime | None]:
    """The next ``limit`` due rows with ids above ``after_id``, in id order."""
    query = select(
        Call.id,
        Call.uniqueid,
        Call.recording_path,
        Call.erasure_requested_at,
        Call.recording_status,
        Call.delete_after,
    ).where(is_due(now, retention), Call.id > after_id)
    if within is not None:
        query = query.where(Call.id.in_(within))
    return query.order_by(Call.id).limit(limit)


def due_call(row: DueRow) -> DueCall:
    """A ``due_batch`` row as a ``DueCall``; a pending erasure wins over retention."""
    call_id, uniqueid, path, erasure_requested_at, status, stored_date = row
    erasing = erasure_requested_at is not None and status != RecordingStatus.RECORDING.value
    return DueCall(
        call_id=call_id,
        uniqueid=uniqueid,
        recording_path=path,
        reason=ERASURE if erasing else RETENTION,
        delete_after=stored_date,
    )


async def iter_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    batch_size: int = 500,
    only_call_ids: Collection[int] | None = None,
) -> AsyncIterator[list[DueCall]]:
    """The calls due at ``now``, batch by batch, read-only (what a dry run lists)."""
    for within in scopes(only_call_ids, batch_size):
        after_id = 0
        while True:
            async with sessions() as session:
                rows = (
                    await session.execute(
                        due_batch(
                            now, retention, after_id=after_id, limit=batch_size, within=within
                        )
                    )
                ).all()
            if not rows:
                break
            after_id = rows[-1][0]
            yield [due_call(row) for row in rows]


async def count_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    only_call_ids: Collection[int] | None = None,
) -> int:
    """How many calls are due at ``now`` (the total of a progress bar)."""
    total = 0
    async with sessions() as session:
        for within in scopes(only_call_ids, 500):
            query = select(func.count()).select_from(Call).where(is_due(now, retention))
            if within is not None:
                query = query.where(Call.id.in_(within))
            total += await session.scalar(query) or 0
    return total


async def count_overdue(
    session: AsyncSession, *, retention: Mapping[str, RetentionPolicy], now: datetime
) -> int:
    """Calls past their retention date at ``now`` and still kept, though no legal hold and no
    restriction keeps them: what the purge deletes at its next run (pending erasures aside)."""
    query = (
        select(func.count())
        .select_from(Call)
        .where(
            Call.purged_at.is_(None),
            Call.restricted_at.is_(None),
            expired(now, retention),
            not_(is_held(now)),
        )
    )
    return await session.scalar(query) or 0


async def unknown_policies(
    session: AsyncSession,
    retention: Mapping[str, RetentionPolicy],
    only_call_ids: Collection[int] | None = None,
) -> dict[str, int]:
    """Live rows without a date whose policy is not configured, counted per policy name."""
    counts: dict[str, int] = {}
    for within in scopes(only_call_ids, 500):
        query = (
            select(Call.retention_policy, func.count())
            .where(unknown_policy(retention))
            .group_by(Call.retention_policy)
        )
        if within is not None:
            query = query.where(Call.id.in_(within))
        for name, count in (await session.execute(query)).all():
            counts[name] = counts.get(name, 0) + count
    return counts

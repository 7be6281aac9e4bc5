"""The training library's own retention, run with the retention purge.

A copy is kept ``[training] months`` calendar months counted from the end of the month it
was made, and deleted on the first day after (``expires_on``): counted from the month, not
the day, so the date does not tell the day the copy was made. The purge (the service's own
and ``callrec purge``) deletes each expired copy's file, then marks its row deleted, audited
as ``training.purged``. It also removes strays: files in the library no live row names (a
copy whose row was never committed), once they are a day old by their inode change time
(the modification time is set to the month, and cannot tell).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.db.models import TrainingCopy
from callrec_ari.lifecycle.retention import add_months

log = structlog.get_logger(__name__)

SERVICE_ACTOR = "callrec"  # the retention rule acting, as the prompt audio purge names it
STRAY_AGE = timedelta(days=1)


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s month, in UTC."""
    moment = now.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def expires_on(now: datetime, months: int) -> date:
    """The day the purge deletes a copy made at ``now`` and kept ``months`` months: the
    first day of the month ``months + 1`` after ``now``'s."""
    return add_months(month_start(now), months + 1).date()


def target(copy_id: str) -> str:
    """The audit trail's target naming a training copy (never its call)."""
    return f"training:{copy_id}"


@dataclass(frozen=True, kw_only=True)
class ExpiryReport:
    """What a run of the library's retention did, or in a dry run would do."""

    dry_run: bool
    expired: int  # copies past expires_on, deleted (rows marked, files gone)
    files_missing: int  # of those, files already gone
    strays_removed: int  # files no live row names, a day old


async def purge_expired_copies(
    sessions: async_sessionmaker[AsyncSession],
    *,
    library: Path,
    now: datetime,
    actor: str = SERVICE_ACTOR,
    dry_run: bool = False,
) -> ExpiryReport:
    """Delete every copy whose ``expires_on`` has come, and the library's strays."""
    today = now.astimezone(UTC).date()
    missing = 0
    async with sessions() as session, session.begin():
        query = select(TrainingCopy).where(
            TrainingCopy.deleted_at.is_(None), TrainingCopy.expires_on <= today
        )
        due = list(await session.scalars(query if dry_run else query.with_for_update()))
        for row in due:
            if dry_run:
                continue
            # The file first: a crash before the commit leaves a row the next run finds.
            existed = await asyncio.to_thread(_unlink, library / row.file)
            missing += not existed
            row.deleted_at = now
            await trail.append(
                session,
                at=now,
                actor=actor,
                action="training.purged",
                target=target(row.id),
                detail={"expires_on": row.expires_on.isoformat(), "file_missing": not existed},
            )
        live = set(
            await session.scalars(
                select(TrainingCopy.file).where(TrainingCopy.deleted_at.is_(None))
            )
        )
    strays = await asyncio.to_thread(_strays, library, live, now)
    if not dry_run:
        for stray in strays:
            await asyncio.to_thread(_unlink, stray)
            log.warning("training.stray_removed", file=stray.name)
    report = ExpiryReport(
        dry_run=dry_run, expired=len(due), files_missing=missing, strays_removed=len(strays)
    )
    if report.expired or report.strays_removed:
        log.info("training.purged", **vars(report))
    return report


def _unlink(path: Path) -> bool:
    """Delete ``path``; whether it was there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _strays(library: Path, live: set[str], now: datetime) -> list[Path]:
    """Regular files in ``library`` no live row names, changed over a day ago."""
    if not library.is_dir():
        return []
    oldest = (now - STRAY_AGE).timestamp()
    found = []
    with os.scandir(library) as entries:
        for entry in entries:
            if entry.name in live or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_ctime <= oldest:
                found.append(Path(entry.path))
    return sorted(found)

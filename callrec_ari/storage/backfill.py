"""Older recordings brought to where new ones go: ``callrec storage backfill``.

The service seals each recording as its call ends (and, with ``[storage] kind = "s3"``,
uploads it), and its sweeps look back ``sweep_lookback_hours`` only. So recordings kept from
before encryption or object storage was turned on stay plain, or sealed on this disk, until
this is run. It walks the older rows a week at a time (memory does not grow with the
archive), seals what is still plain, hands what is sealed and still here to the upload queue,
and waits for the store to confirm each file.

It takes only calls that ended before the service's own window, so it can run beside the
service; run again after an interruption, it finds only what is left. The row's SHA-256 stays
the audio's, so evidence and exports do not change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.cli import CommandLine
from callrec_ari.config import Settings
from callrec_ari.config.encryption import require_master_keys
from callrec_ari.config.storage import StorageKind
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.db import schema
from callrec_ari.db.models import Call
from callrec_ari.db.session import open_sessions
from callrec_ari.errors import ConfigError
from callrec_ari.recording.seal import HandOver, Sealer
from callrec_ari.records import RecordingStatus
from callrec_ari.storage import open_store
from callrec_ari.storage.uploads import UploadQueue

log = structlog.get_logger(__name__)

WINDOW = timedelta(days=7)  # calls looked at per step of the walk
_SETTLED = (RecordingStatus.COMPLETE.value, RecordingStatus.EMPTY.value)


@dataclass(frozen=True, kw_only=True)
class Backfill:
    """What one run did."""

    before: datetime  # calls that ended before this were looked at
    sealed: int  # recordings sealed now
    handed_over: int  # sealed files moved to the upload queue's outbox now
    waiting: int  # files still in the outbox when the wait for the store ended


async def backfill(
    *,
    sessions: async_sessionmaker[AsyncSession],
    recordings_dir: Path,
    keys: MasterKeys,
    queue: UploadQueue | None,
    clock: Callable[[], datetime],
    before: datetime,
    upload_wait_seconds: float,
    actor: str,
) -> Backfill:
    """Seal (and with ``queue``, upload) the recordings of calls that ended before
    ``before``; recorded in the audit trail."""
    handed = 0

    def counted(add_many: HandOver) -> HandOver:
        async def hand_over(files: Sequence[tuple[Path, str]]) -> None:
            nonlocal handed
            await add_many(files)
            handed += len(files)

        return hand_over

    sealer = Sealer(
        recordings_dir=recordings_dir,
        keys=keys,
        sessions=sessions,
        clock=clock,
        hand_over=counted(queue.add_many) if queue is not None else None,
    )
    uploading = asyncio.create_task(queue.run()) if queue is not None else None
    try:
        sealed = await _walk(sessions, sealer, before)
        waiting = 0
        if queue is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.wait_idle(), upload_wait_seconds)
            waiting = len(queue.pending)
    finally:
        if uploading is not None:
            uploading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await uploading
    result = Backfill(before=before, sealed=sealed, handed_over=handed, waiting=waiting)
    async with sessions() as session, session.begin():
        await trail.append(
            session,
            at=clock(),
            actor=actor,
            action="storage.backfilled",
            detail={
                "before": before.isoformat(),
                "sealed": sealed,
                "handed_over": handed,
                "waiting": waiting,
            },
        )
    log.info("storage.backfilled", sealed=sealed, handed_over=handed, waiting=waiting)
    return result


async def _walk(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, before: datetime
) -> int:
    """Sweep the calls ended before ``before``, oldest week first; recordings sealed."""
    async with sessions() as session:
        oldest = await session.scalar(
            select(func.min(Call.ended_at)).where(
                Call.recording_status.in_(_SETTLED),
                Call.purged_at.is_(None),
                Call.recording_path.is_not(None),
                Call.ended_at < before,
            )
        )
    sealed = 0
    start = oldest
    while start is not None and start < before:
        end = min(start + WINDOW, before)
        sealed += await sealer.sweep(full=True, since=start, until=end)
        start = end
    return sealed


def ready_to_backfill(settings: Settings) -> MasterKeys:
    """The master keys, once the configuration and the database can take a backfill
    (blocking; before the command's event loop): ``ConfigError`` or ``DatabaseError`` saying
    why not."""
    if not settings.encryption.enabled:
        raise ConfigError(
            "Nothing to bring over: [encryption] is off, and recordings stay plain in the "
            "recordings folder."
        )
    schema.require(settings.database.url)  # "run callrec migrate first", not an SQL error
    return require_master_keys(settings.encryption)


async def run_backfill(
    cli: CommandLine, settings: Settings, keys: MasterKeys, *, wait_seconds: float
) -> list[str]:
    """``callrec storage backfill`` with the configured database, keys and store; what to say."""
    before = cli.clock() - timedelta(hours=settings.encryption.sweep_lookback_hours)
    async with contextlib.AsyncExitStack() as stack:
        sessions = await stack.enter_async_context(
            open_sessions(settings.database.url, client=cli.operator.client)
        )
        queue = None
        if settings.storage.kind is StorageKind.S3:
            store = await open_store(settings.storage, settings.recording.service_dir)
            stack.push_async_callback(store.close)
            queue = UploadQueue(
                store,
                settings.storage.outbox_dir,
                retry_min_seconds=settings.storage.retry_min_seconds,
                retry_max_seconds=settings.storage.retry_max_seconds,
            )
        result = await backfill(
            sessions=sessions,
            recordings_dir=settings.recording.service_dir,
            keys=keys,
            queue=queue,
            clock=cli.clock,
            before=before,
            upload_wait_seconds=wait_seconds,
            actor=cli.default_actor,
        )
    return _said(result, queue)


def _said(result: Backfill, queue: UploadQueue | None) -> list[str]:
    ended = result.before.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Sealed {result.sealed} recording(s) of calls that ended before {ended}."]
    if queue is not None:
        lines.append(f"Handed {result.handed_over} sealed file(s) to {queue.store.description}.")
        if result.waiting:
            lines.append(
                f"{result.waiting} file(s) still wait in the outbox {queue.outbox}: the store "
                "has not confirmed them; run this again, or they go up when callrec run starts."
            )
    return lines

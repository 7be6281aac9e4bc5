"""Orphans in the object store: recordings uploaded whose row is gone or never came.

The bucket is listed (``RecordingStore.objects``) and its objects, ``<plain path>.enc`` of a
mix or a leg, are grouped by recording, a day folder at a time as the listing brings them,
so memory holds one day's keys. A recording no row knows is an orphan under the rule of the
recordings folder (``orphans.py``): it is removed only once older than the longest
retention, counting from its day folder or its last write, the later. Removing it removes
its objects, any file of it still in the outbox, and its data key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.db.session import describe_error
from callrec_ari.errors import DatabaseError
from callrec_ari.lifecycle.orphans import (
    WAV,
    Counts,
    Orphan,
    OrphanReport,
    count_orphan,
    destroy_orphan_keys,
    known_paths,
)
from callrec_ari.lifecycle.retention import orphan_removable, orphan_time
from callrec_ari.recording.audio import ENCRYPTED_SUFFIX
from callrec_ari.recording.legs import mix_of
from callrec_ari.storage.port import ObjectInfo
from callrec_ari.storage.recordings import Offsite, remove_offsite

log = structlog.get_logger(__name__)


async def sweep_orphan_objects(
    sessions: async_sessionmaker[AsyncSession],
    offsite: Offsite,
    *,
    now: datetime,
    keep_days: int,
    remove: bool = False,
    on_orphan: Callable[[Orphan], None] | None = None,
    chunk_size: int = 500,
) -> OrphanReport:
    """Find every recording in the store no row knows; with ``remove``, delete those past
    ``keep_days``. ``StorageError`` if the store cannot be listed or changed,
    ``DatabaseError`` if the database cannot be asked."""
    counts = Counts()
    day: str | None = None
    group: dict[str, list[ObjectInfo]] = {}
    sweep = _Day(sessions, offsite, now=now, keep_days=keep_days, remove=remove)
    try:
        async for info in offsite.store.objects():
            mix = _mix_of_key(info.key)
            if mix is None:
                continue  # not a recording's object (a storage check's probe, say)
            folder = mix.rpartition("/")[0]
            if folder != day and group:
                await sweep.settle(group, counts, on_orphan, chunk_size)
                group = {}
            if folder != day:
                counts.days += 1
                day = folder
            counts.recordings += mix not in group
            group.setdefault(mix, []).append(info)
        if group:
            await sweep.settle(group, counts, on_orphan, chunk_size)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"The database could not say which recordings it knows: {describe_error(exc)}."
        ) from exc
    log.info("orphans.store_done", **vars(counts))
    return OrphanReport(**vars(counts))


class _Day:
    """Settles one day folder's recordings in the store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        offsite: Offsite,
        *,
        now: datetime,
        keep_days: int,
        remove: bool,
    ) -> None:
        self._sessions = sessions
        self._offsite = offsite
        self._now = now
        self._keep_days = keep_days
        self._remove = remove

    async def settle(
        self,
        group: dict[str, list[ObjectInfo]],
        counts: Counts,
        on_orphan: Callable[[Orphan], None] | None,
        chunk_size: int,
    ) -> None:
        """Find the orphans among ``group`` (mix -> its objects), remove the old ones."""
        known = await known_paths(self._sessions, sorted(group), chunk_size)
        found: list[Orphan] = []
        for mix, infos in sorted(group.items()):
            day = _day_of(mix)
            if mix in known or day is None:  # no day folder: not a recording callrec stored
                continue
            file_time = orphan_time(day, max(info.modified_at for info in infos))
            removable = orphan_removable(file_time, self._now, self._keep_days)
            found.append(
                Orphan(
                    relative_path=mix,
                    files=tuple(info.key.rpartition("/")[2] for info in infos),
                    size_bytes=sum(info.size for info in infos),
                    file_time=file_time,
                    removable=removable,
                    removed=self._remove and removable,
                )
            )
        gone = [orphan.relative_path for orphan in found if orphan.removed]
        if gone:
            await remove_offsite(self._offsite, gone)
            await destroy_orphan_keys(self._sessions, gone)
            for relative in gone:
                log.info("orphans.removed", path=relative, where=self._offsite.store.description)
        for orphan in found:
            count_orphan(counts, orphan)
            if on_orphan is not None:
                on_orphan(orphan)


def _mix_of_key(key: str) -> str | None:
    """The relative path of the mix a stored object belongs to; None if no recording's."""
    plain = key.removesuffix(ENCRYPTED_SUFFIX)
    if plain == key or not plain.endswith(WAV):
        return None
    return mix_of(plain) or plain


def _day_of(relative: str) -> datetime | None:
    """The start of the day of a ``YYYY/MM/DD/<name>`` path, in UTC; None for another."""
    parts = relative.split("/")
    if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
        return None
    try:
        return datetime(int(parts[0]), int(parts[1]), int(parts[2]), tzinfo=UTC)
    except ValueError:
        return None

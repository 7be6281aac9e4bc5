"""Recordings no row knows about (orphans): found day folder by day folder, removed when old.

Orphans come from crashes (a file written while its row never reached the database) or from
files copied in by hand. The recordings folder is walked as ``YYYY/MM/DD/*.wav``, one day
folder at a time, and the database is asked which of that day's paths rows know, so memory
stays bounded by one day. A ``.done`` marker belongs to its WAV: it is ignored when a row
knows the WAV and goes with it otherwise. Symbolic links are never followed, nor removed.

An orphan is only removed when it is older than the longest retention policy, so a file
whose row is still on its way (the database was down) is reported but never deleted.
Except a withdrawn one: beside ``<name>.wav.withdrawn`` (the dialplan's marker that the caller
withdrew consent mid-call) the audio and its ``.done`` go at once, whatever their age; the
marker itself, which holds no personal data, stays until it is old, so a call settled later
(after a restart) still sees that it was withdrawn.

A call's two legs (``<name>.caller.wav`` and ``<name>.agent.wav``, ``recording/legs.py``)
belong to the mix ``<name>.wav``: a row that knows the mix knows its legs, and legs whose mix
no row knows are part of that orphan, under the mix's rules (removed when old, or at once
when withdrawn), even when the mix itself is already gone. So do their sealed forms
(``<file>.enc``, and a ``<file>.enc.part`` a crash left, ``recording/seal.py``); a removed
orphan's data key, if it had one, is destroyed with it.

With object storage, ``orphan_objects.py`` sweeps the bucket by the same rules.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.crypto.store import destroy_keys
from callrec_ari.db.models import Call
from callrec_ari.db.session import describe_error
from callrec_ari.errors import DatabaseError, RecordingError
from callrec_ari.lifecycle.retention import modified_at, orphan_removable, orphan_time
from callrec_ari.recording.audio import ENCRYPTED_SUFFIX
from callrec_ari.recording.legs import leg_files, mix_of
from callrec_ari.recording.seal import PART_SUFFIX

log = structlog.get_logger(__name__)

WAV = ".wav"
MARKER = ".done"
WITHDRAWN = ".withdrawn"


@dataclass(frozen=True, kw_only=True)
class Orphan:
    """A recording (its WAV, its legs, its ``.done`` and ``.withdrawn`` markers) that no row
    knows about."""

    relative_path: str  # YYYY/MM/DD/<name>.wav, as a row would store it
    files: tuple[str, ...]  # the names present: the WAV, its legs and/or its markers
    size_bytes: int
    file_time: datetime  # the later of its folder's day and its last change
    removable: bool  # older than the longest retention
    removed: bool


@dataclass(frozen=True, kw_only=True)
class OrphanReport:
    """What a sweep found and did."""

    days: int  # day folders walked
    recordings: int  # WAVs and lone markers seen
    orphans: int
    removable: int  # orphans past the longest retention
    removed: int
    bytes_removed: int
    skipped_links: int  # symbolic links found and left alone


@dataclass(kw_only=True)
class Counts:
    """A sweep's running totals, as ``OrphanReport`` gives them."""

    days: int = 0
    recordings: int = 0
    orphans: int = 0
    removable: int = 0
    removed: int = 0
    bytes_removed: int = 0
    skipped_links: int = 0


async def sweep_orphans(
    sessions: async_sessionmaker[AsyncSession],
    recordings_dir: Path,
    *,
    now: datetime,
    keep_days: int,
    remove: bool = False,
    on_orphan: Callable[[Orphan], None] | None = None,
    chunk_size: int = 500,
) -> OrphanReport:
    """Find every orphan under ``recordings_dir``; with ``remove``, delete those past ``keep_days``.

    ``keep_days`` is the longest retention (``Settings.longest_retention_days``). Each orphan
    is handed to ``on_orphan`` as it is found. Raises ``RecordingError`` if the folder cannot
    be read, ``DatabaseError`` if the database cannot be asked.
    """
    counts = Counts()
    try:
        # File-system work runs in a thread: a sweep must not stall a running event loop.
        if not await asyncio.to_thread(recordings_dir.is_dir):
            raise RecordingError(f"The recordings folder {recordings_dir} does not exist.")
        for folder, day_path, day in await asyncio.to_thread(_day_folders, recordings_dir, counts):
            counts.days += 1
            recordings = await asyncio.to_thread(_recordings, folder, counts)
            counts.recordings += len(recordings)
            paths = [f"{day_path}/{name}" for name in recordings]
            known = await known_paths(sessions, paths, chunk_size)
            unknown = {
                name: kinds
                for name, kinds in recordings.items()
                if f"{day_path}/{name}" not in known
            }
            found = await asyncio.to_thread(
                _settle_day,
                folder,
                day_path,
                day,
                unknown,
                now=now,
                keep_days=keep_days,
                remove=remove,
            )
            for orphan in found:
                count_orphan(counts, orphan)
                if on_orphan is not None:
                    on_orphan(orphan)
            await destroy_orphan_keys(sessions, [o.relative_path for o in found if o.removed])
    except OSError as exc:
        raise RecordingError(
            f"The recordings folder could not be read or changed at {exc.filename} "
            f"({exc.strerror})."
        ) from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"The database could not say which recordings it knows: {describe_error(exc)}."
        ) from exc
    log.info("orphans.done", **vars(counts))
    return OrphanReport(**vars(counts))


async def destroy_orphan_keys(sessions: async_sessionmaker[AsyncSession], paths: list[str]) -> None:
    """A sealed orphan (its row never reached the database) leaves no key row behind."""
    if paths:
        async with sessions() as session, session.begin():
            await destroy_keys(session, paths)


def _day_folders(root: Path, counts: Counts) -> list[tuple[Path, str, datetime]]:
    """``(folder, "YYYY/MM/DD", start of that day in UTC)`` of every day folder, in order.

    A list: one entry per day, a few thousand over years of recordings.
    """
    return list(_walk_days(root, counts))


def _walk_days(root: Path, counts: Counts) -> Iterator[tuple[Path, str, datetime]]:
    for year in _numbered_dirs(root, 4, counts):
        for month in _numbered_dirs(year, 2, counts):
            for day in _numbered_dirs(month, 2, counts):
                try:
                    start = datetime(int(year.name), int(month.name), int(day.name), tzinfo=UTC)
                except ValueError:  # e.g. 2026/02/31: not a folder callrec made
                    continue
                yield day, f"{year.name}/{month.name}/{day.name}", start


def _numbered_dirs(parent: Path, digits: int, counts: Counts) -> list[Path]:
    found: list[Path] = []
    with os.scandir(parent) as entries:
        for entry in entries:
            if len(entry.name) != digits or not entry.name.isdigit():
                continue
            if entry.is_symlink():
                counts.skipped_links += 1
                log.warning("orphans.link_skipped", path=entry.path)
            elif entry.is_dir(follow_symlinks=False):
                found.append(Path(entry.path))
    return sorted(found)


def _recordings(folder: Path, counts: Counts) -> dict[str, set[str]]:
    """Mix name -> which of its ``.wav``, legs, ``.wav.done`` and ``.wav.withdrawn`` exist,
    for one day folder."""
    recordings: dict[str, set[str]] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            # A sealed file (or a part a crash left) is its plain name's, under its own kind.
            plain = entry.name.removesuffix(PART_SUFFIX).removesuffix(ENCRYPTED_SUFFIX)
            if (mix := mix_of(plain)) is not None:
                name, kind = mix, entry.name.removeprefix(mix.removesuffix(WAV))
            elif plain.endswith(WAV):
                name, kind = plain, entry.name.removeprefix(plain.removesuffix(WAV))
            elif entry.name.endswith(WAV + MARKER):
                name, kind = entry.name.removesuffix(MARKER), MARKER
            elif entry.name.endswith(WAV + WITHDRAWN):
                name, kind = entry.name.removesuffix(WITHDRAWN), WITHDRAWN
            else:
                continue
            if entry.is_symlink():
                counts.skipped_links += 1
                log.warning("orphans.link_skipped", path=entry.path)
            elif entry.is_file(follow_symlinks=False):
                recordings.setdefault(name, set()).add(kind)
    return recordings


async def known_paths(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str], chunk_size: int
) -> set[str]:
    """Those of ``paths`` that a row stores as its recording path."""
    known: set[str] = set()
    if not paths:
        return known
    async with sessions() as session:
        for start in range(0, len(paths), chunk_size):
            chunk = paths[start : start + chunk_size]
            rows = await session.scalars(
                select(Call.recording_path).where(Call.recording_path.in_(chunk))
            )
            known.update(path for path in rows if path is not None)
    return known


def _settle_day(
    folder: Path,
    day_path: str,
    day: datetime,
    unknown: dict[str, set[str]],
    *,
    now: datetime,
    keep_days: int,
    remove: bool,
) -> list[Orphan]:
    """The orphans of one day folder, removed if asked and old enough."""
    found = [
        _orphan(
            folder / name,
            f"{day_path}/{name}",
            kinds,
            day=day,
            now=now,
            keep_days=keep_days,
            remove=remove,
        )
        for name, kinds in sorted(unknown.items())
    ]
    if any(orphan.removed for orphan in found):
        _remove_if_empty(folder)
    return found


def _orphan(
    wav: Path,
    relative: str,
    present: set[str],
    *,
    day: datetime,
    now: datetime,
    keep_days: int,
    remove: bool,
) -> Orphan:
    # The mix, its legs, and their sealed forms (and parts), each a kind of its own.
    files = [
        wav.with_name(wav.stem + kind)
        for base in (WAV, *(leg.name.removeprefix(wav.stem) for leg in leg_files(wav)))
        for kind in (base, base + ENCRYPTED_SUFFIX, base + ENCRYPTED_SUFFIX + PART_SUFFIX)
        if kind in present
    ]
    if MARKER in present:
        files.append(wav.with_name(wav.name + MARKER))
    audio = list(files)
    if WITHDRAWN in present:
        files.append(wav.with_name(wav.name + WITHDRAWN))
    stats = [path.lstat() for path in files]
    file_time = orphan_time(day, max(modified_at(stat.st_mtime) for stat in stats))
    old = orphan_removable(file_time, now, keep_days)
    withdrawn = WITHDRAWN in present and bool(present - {MARKER, WITHDRAWN})
    removable = old or withdrawn
    if remove and removable:
        for path in files if old else audio:
            path.unlink(missing_ok=True)
        log.info("orphans.removed", path=relative, withdrawn=withdrawn)
    return Orphan(
        relative_path=relative,
        files=tuple(path.name for path in files),
        size_bytes=sum(stat.st_size for stat in stats),
        file_time=file_time,
        removable=removable,
        removed=remove and removable,
    )


def count_orphan(counts: Counts, orphan: Orphan) -> None:
    """Add one orphan to the totals."""
    counts.orphans += 1
    counts.removable += orphan.removable
    if orphan.removed:
        counts.removed += 1
        counts.bytes_removed += orphan.size_bytes


def _remove_if_empty(folder: Path) -> None:
    # Only a day folder this sweep emptied; an old day never gets new recordings.
    try:
        folder.rmdir()
    except OSError:
        return

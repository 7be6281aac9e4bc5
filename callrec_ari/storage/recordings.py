"""Where a recording's files are now, and removing them from everywhere: the one place that
knows the way a sealed file travels with object storage (``[storage] kind = "s3"``)::

    recordings folder         outbox                        store
    <plain>.wav ──seal──> <plain>.wav.enc ──hand-over──> outbox/<key, quoted> ──upload──> <key>

The key is the plain file's relative path with ``.enc`` (``2026/12/02/1764.12.wav.enc``).
``locate`` looks in that order (a file may move on while it looks: a reader that finds
nothing where it was told looks again). ``remove_offsite`` removes the outbox files and the
objects of recordings whose local files ``lifecycle/reduce.py`` has removed; every deleter
(purge, erasure, orphans) goes through the two. Without object storage there is no
``Offsite`` and nothing but the recordings folder is looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import shutil
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from callrec_ari.config import Settings
from callrec_ari.config.storage import StorageKind
from callrec_ari.errors import RecordingError
from callrec_ari.recording.audio import ENCRYPTED_SUFFIX, StoredAudio, sealed_path
from callrec_ari.recording.legs import legs_of
from callrec_ari.recording.paths import service_path
from callrec_ari.storage import open_store
from callrec_ari.storage.port import RecordingStore
from callrec_ari.storage.uploads import outbox_file

_REQUESTS_AT_ONCE = 8  # look-ups in flight when a purge asks which recordings the store holds
# From this many recordings in one folder, one listing answers for them all: fewer would
# take a single round of lookups, and a page of a busy folder costs more to read than that.
_LIST_FROM = _REQUESTS_AT_ONCE
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Offsite:
    """Where sealed files go after the recordings folder: the outbox, then the store."""

    store: RecordingStore
    outbox: Path

    def outbox_file(self, key: str) -> Path:
        """The outbox's file for ``key`` (``UploadQueue.path_for``, without a queue)."""
        return outbox_file(self.outbox, key)


class Place(enum.Enum):
    """Where a recording's audio file was found."""

    PLAIN = "plain"  # the WAV as Asterisk wrote it
    SEALED = "sealed"  # its encrypted form, still in the recordings folder
    OUTBOX = "outbox"  # encrypted, waiting for upload
    STORE = "store"  # encrypted, in the object store only


@dataclass(frozen=True, kw_only=True)
class Found:
    """One audio file where it is now: a file on this machine (``path``), or an object."""

    place: Place
    path: Path | None = None  # PLAIN, SEALED, OUTBOX
    key: str | None = None  # STORE
    size: int  # as stored: the ciphertext's length for all but PLAIN

    @property
    def encrypted(self) -> bool:
        """Whether the file is the encrypted form (needs the recording's data key)."""
        return self.place is not Place.PLAIN


def storage_key(relative_plain: str) -> str:
    """The store's key for the sealed form of the plain file at ``relative_plain``."""
    return relative_plain + ENCRYPTED_SUFFIX


def recording_keys(relative_mix: str) -> list[str]:
    """The keys of a recording's sealed files: its mix and both legs."""
    return [storage_key(path) for path in (relative_mix, *legs_of(relative_mix))]


async def locate(plain: Path, relative_plain: str, offsite: Offsite | None) -> Found | None:
    """Where the audio whose plain file is ``plain`` (``relative_plain`` inside the
    recordings folder) is now; None if nowhere. ``StorageError`` if the store cannot say."""
    local = await asyncio.to_thread(_local, plain)
    if local is not None or offsite is None:
        return local
    key = storage_key(relative_plain)
    waiting = offsite.outbox_file(key)
    size = await asyncio.to_thread(_size, waiting)
    if size is not None:
        return Found(place=Place.OUTBOX, path=waiting, size=size)
    info = await offsite.store.head(key)
    if info is None:
        return None
    return Found(place=Place.STORE, key=key, size=info.size)


async def present(recordings_dir: Path, relative_plain: str, offsite: Offsite | None) -> bool:
    """Whether the audio at ``relative_plain`` exists anywhere; ``RecordingError`` for a
    path that leaves the recordings folder."""
    plain = service_path(recordings_dir, relative_plain)
    return await locate(plain, relative_plain, offsite) is not None


def _local(plain: Path) -> Found | None:
    size = _size(plain)
    if size is not None:
        return Found(place=Place.PLAIN, path=plain, size=size)
    sealed = sealed_path(plain)
    size = _size(sealed)
    if size is not None:
        return Found(place=Place.SEALED, path=sealed, size=size)
    return None


def _size(path: Path) -> int | None:
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.st_size if path.is_file() else None


async def held_offsite(offsite: Offsite, relative_mixes: Sequence[str]) -> set[str]:
    """Those of the recordings (by their mix's relative path) whose mix is in the outbox or
    the store.

    The store is asked once per day folder where the folder holds many of them (a listing
    of the range of keys between the first and the last, a thousand keys a request), and
    with a lookup per recording where it holds a few: a purge batch of 500 recordings costs
    a request or two per day it spans, not 500.
    """
    keys = {storage_key(relative): relative for relative in relative_mixes}
    waiting = await asyncio.to_thread(_in_outbox, offsite, list(keys))
    by_folder: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        if key not in waiting:
            by_folder[key.rpartition("/")[0]].append(key)
    jobs: list[Awaitable[set[str]]] = []
    for group in by_folder.values():
        if len(group) >= _LIST_FROM:
            jobs.append(_listed(offsite.store, group))
        else:
            jobs.extend(_headed(offsite.store, key) for key in group)
    stored: set[str] = set().union(*await _at_most(_REQUESTS_AT_ONCE, jobs))
    return {keys[key] for key in waiting | stored}


def _in_outbox(offsite: Offsite, keys: list[str]) -> set[str]:
    return {key for key in keys if offsite.outbox_file(key).is_file()}


async def _headed(store: RecordingStore, key: str) -> set[str]:
    return {key} if await store.head(key) is not None else set()


async def _listed(store: RecordingStore, keys: list[str]) -> set[str]:
    """Those of ``keys`` (all in one folder) the store holds, from one listing of their
    range. Relies on S3's order of keys within a folder (byte order), which every store
    callrec knows keeps."""
    wanted = set(keys)
    first, last = min(keys), max(keys)
    folder = first[: first.rfind("/") + 1]
    found: set[str] = set()
    # Listing starts after ``start_after``: the first key shortened by one character sorts
    # just before it (anything between is listed and ignored).
    async with contextlib.aclosing(store.objects(folder, start_after=first[:-1])) as listed:
        async for info in listed:
            if info.key > last:
                break
            if info.key in wanted:
                found.add(info.key)
    return found


async def _at_most(limit: int, jobs: Sequence[Awaitable[T]]) -> list[T]:
    """Run ``jobs``, ``limit`` at a time; the first failure cancels the rest and is raised."""
    slots = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with slots:
            return await job

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))  # the first StorageError, as it is
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def remove_offsite(offsite: Offsite, relative_mixes: Sequence[str]) -> set[str]:
    """Remove the recordings' files from the outbox, then their objects from the store (mix
    and legs; idempotent); those whose mix was in either. The outbox first: an upload in
    flight then finds its file gone and deletes the object it made (``app.py``)."""
    if not relative_mixes:
        return set()
    found = await held_offsite(offsite, relative_mixes)
    keys = [key for relative in relative_mixes for key in recording_keys(relative)]
    await asyncio.to_thread(_unlink_all, [offsite.outbox_file(key) for key in keys])
    await offsite.store.delete_many(keys)
    return found


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def fetched(
    recordings_dir: Path, wanted: Sequence[tuple[str, bytes]], offsite: Offsite | None
) -> AsyncIterator[dict[str, StoredAudio]]:
    """For whole-file readers (an export): those of the sealed files ``wanted`` (relative
    plain path, data key) that are no longer in the recordings folder, by relative path:
    a copy of the outbox's file or of the object's ciphertext, in a private temporary
    folder (mode 0700) removed on leaving. Files in the folder, or nowhere, are left out."""
    found: dict[str, StoredAudio] = {}
    if offsite is None:
        yield found
        return
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="callrec-fetched-"))
    try:
        for index, (relative, data_key) in enumerate(wanted):
            try:
                plain = service_path(recordings_dir, relative)
            except RecordingError:
                continue  # outside the folder: the reader refuses it with its own words
            target = folder / f"{index}.enc"
            if await _fetch(plain, relative, offsite, target):
                found[relative] = StoredAudio(path=target, key=data_key)
        yield found
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


async def _fetch(plain: Path, relative: str, offsite: Offsite, target: Path) -> bool:
    """Copy the sealed file of ``relative`` from the outbox or the store to ``target``;
    False if it is in the recordings folder or nowhere. A copy, not the outbox's file: the
    queue may remove that one while the reader is still at work."""
    for _ in range(2):  # uploaded and removed from the outbox while we looked: once more
        where = await locate(plain, relative, offsite)
        if where is None or where.place in {Place.PLAIN, Place.SEALED}:
            return False
        if where.path is None:
            async with await offsite.store.read(storage_key(relative)) as stream:
                with target.open("wb") as out:
                    async for piece in stream:
                        await asyncio.to_thread(out.write, piece)
            return True
        try:
            await asyncio.to_thread(shutil.copyfile, where.path, target)
        except FileNotFoundError:
            continue
        return True
    return False


@contextlib.asynccontextmanager
async def opened_offsite(settings: Settings) -> AsyncIterator[Offsite | None]:
    """The store and outbox ``[storage]`` names, for a command or the web app that runs no
    upload queue; None with the local default. The store is closed on leaving."""
    storage = settings.storage
    if storage.kind is not StorageKind.S3:
        yield None
        return
    store = await open_store(storage, settings.recording.service_dir)
    try:
        yield Offsite(store=store, outbox=storage.outbox_dir)
    finally:
        await store.close()

"""The upload queue: finished files wait in an outbox folder until the store confirms them.

::

    add(file, key) ──rename──> outbox/<key, quoted> ──worker──> head: already there, same?
                                     ^                          │ no          │ yes
                                     │                 put ──> verified by the store (S3's
                                     │                         Content-MD5), or head + checksum?
                                     │                                      │ yes
                                     │                     on_stored(key), then the file is removed
                                     └──── retry after a growing delay <── no, or the store is down

The local file is the only copy until the store has confirmed the object: its size and its
SHA-256 match the file's. So an outage of the store only delays uploads (each file is retried
with a growing delay, capped, then goes to the back of the line, so that one file the store
keeps refusing holds up no other), and ``add`` never waits for the store: it is one rename.

The queue lives in the folder, not in memory: ``run`` rebuilds it from the outbox each time it
starts, so a crash anywhere loses nothing. A file that was uploaded but not yet removed when
the process died is found again, its object confirmed without a second upload, and removed.
Hashing, reading and removing files run in worker threads; the event loop only waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import structlog

from callrec_ari.errors import CallrecError, StorageError
from callrec_ari.storage.port import ObjectInfo, RecordingStore, check_key, file_sha256
from callrec_ari.supervision import UNWATCHED, Backoff, Rounds

log = structlog.get_logger(__name__)

INCOMING_PREFIX = ".incoming-"  # a copy still being written into the outbox
OnStored = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class _LocalFile:
    """A file in the outbox as it was when hashed: unchanged if its identity is the same."""

    size: int
    sha256: str
    identity: tuple[int, int, int, int]  # device, inode, size, modification time (ns)


class UploadQueue:
    """Moves finished files from ``outbox`` into ``store``, retrying until each is confirmed.

    ``on_stored(key)`` runs once the object is confirmed and before the local file goes (at
    least once per file: again after a crash in between); if it raises, the file is kept
    and the whole step is retried.
    """

    def __init__(
        self,
        store: RecordingStore,
        outbox: Path,
        *,
        workers: int = 2,
        retry_min_seconds: float = 1.0,
        retry_max_seconds: float = 300.0,
        on_stored: OnStored | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self._workers = workers
        self._backoff = Backoff(min_seconds=retry_min_seconds, max_seconds=retry_max_seconds)
        self._on_stored = on_stored
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()
        self._failures: dict[str, int] = {}  # failed attempts in a row, by key
        # Keys handed over by add() in this run and not tried yet: no earlier attempt can have
        # stored them, so their first attempt need not ask the store first.
        self._fresh: set[str] = set()
        self._idle = asyncio.Event()  # set once run() has read the outbox and all is done
        self._running = False

    @property
    def pending(self) -> frozenset[str]:
        """The keys waiting or being uploaded."""
        return frozenset(self._pending)

    async def add(self, source: Path, key: str) -> None:
        """Hand the finished file ``source`` over for upload under ``key``: it is moved into
        the outbox (renamed; copied first only across file systems) and queued."""
        await self.add_many([(source, key)])

    async def add_many(self, files: Sequence[tuple[Path, str]]) -> None:
        """``add`` for several files (a recording's mix and legs) in one trip to a worker
        thread and one sync of the outbox. If one cannot be moved, those moved before it are
        queued all the same and the error is raised; the rest stay where they were."""
        keys = [check_key(key) for _, key in files]
        # Marked before the move: a scan of the outbox may find a file before this resumes.
        self._fresh.update(keys)
        moved: list[str] = []
        try:
            await asyncio.to_thread(self._move_all, files, moved)
        finally:
            self._fresh.difference_update(keys[len(moved) :])
            if self._running:
                for key in moved:
                    self._submit(key)

    def path_for(self, key: str) -> Path:
        """Where the file waiting for ``key`` is kept: one flat folder, the key quoted."""
        return outbox_file(self.outbox, key)

    async def wait_idle(self) -> None:
        """Return once ``run`` has taken in the outbox and nothing is waiting or being
        uploaded."""
        await self._idle.wait()

    async def run(self, rounds: Rounds = UNWATCHED) -> None:
        """Upload until cancelled: first everything already in the outbox, then what ``add``
        brings. Reports each upload's outcome to ``rounds`` (for a supervisor)."""
        self._queue = asyncio.Queue()
        self._pending.clear()
        self._failures.clear()
        self._idle.clear()
        # Running before the scan: a file added while the folder is read is queued by add()
        # (and found by the scan too, which is harmless), never missed by both.
        self._running = True
        try:
            keys = await asyncio.to_thread(self._scan)
            if keys:
                log.info("storage.outbox_found", files=len(keys), outbox=str(self.outbox))
            for key in keys:
                self._submit(key)
            self._settle()
            async with asyncio.TaskGroup() as group:
                for _ in range(self._workers):
                    group.create_task(self._work(rounds))
        finally:
            self._running = False

    def _submit(self, key: str) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        self._idle.clear()
        self._queue.put_nowait(key)

    def _settle(self) -> None:
        if not self._pending:
            self._idle.set()

    async def _work(self, rounds: Rounds) -> None:
        while True:
            key = await self._queue.get()
            done = False
            try:
                done = await self._attempt(key, rounds)
            finally:
                if done:
                    self._pending.discard(key)
                    self._failures.pop(key, None)
                    self._settle()
                else:
                    # Behind the others: one file the store keeps refusing must not hold
                    # up the rest.
                    self._queue.put_nowait(key)

    async def _attempt(self, key: str, rounds: Rounds) -> bool:
        """Try ``key`` once; after a failure, wait the key's growing delay. True when done."""
        started = time.monotonic()
        try:
            outcome = await self._upload_once(key)
        except (CallrecError, OSError) as exc:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            delay = self._backoff.delay(failures)
            error = _sentence(exc)
            rounds.failed(error)
            log.warning(
                "storage.upload_failed",
                key=key,
                attempt=failures,
                retry_in_seconds=delay,
                error=error,
            )
            await asyncio.sleep(delay)
            return False
        if outcome == "changed":
            return False  # replaced while it was uploaded: the new file goes up too
        rounds.succeeded()
        log.info(
            "storage.upload_done",
            key=key,
            outcome=outcome,
            attempts=self._failures.get(key, 0) + 1,
            seconds=round(time.monotonic() - started, 3),
        )
        return True

    async def _upload_once(self, key: str) -> str:
        """One attempt: ``uploaded``, ``already_stored`` (confirmed without uploading),
        ``gone`` (nothing to do) or ``changed`` (a new file arrived under the key)."""
        path = self.path_for(key)
        fresh = key in self._fresh
        self._fresh.discard(key)  # a retry asks the store first: the last PUT may have landed
        local = await asyncio.to_thread(_describe, path)
        if local is None:
            return "gone"  # removed by someone else, or queued twice and done already
        if not fresh and await self._confirmed(key, local):
            outcome = "already_stored"  # a crash came between the upload and the removal
        else:
            stored = await self.store.put(key, path, sha256=local.sha256)
            if not _vouched_for(stored, local) and not await self._confirmed(key, local):
                raise StorageError(
                    f"The upload of {key} to {self.store.description} could not be confirmed: "
                    "the stored size or SHA-256 differs from the file's."
                )
            outcome = "uploaded"
        if self._on_stored is not None:
            await self._on_stored(key)
        removed = await asyncio.to_thread(_remove_if_unchanged, path, local)
        return outcome if removed else "changed"

    async def _confirmed(self, key: str, local: _LocalFile) -> bool:
        info = await self.store.head(key)
        if info is None or info.size != local.size:
            return False
        stored = info.sha256 if info.sha256 is not None else await self.store.checksum(key)
        return stored == local.sha256

    def _scan(self) -> list[str]:
        """The keys of the files in the outbox, oldest first; half-made copies are removed
        (their source was only removed after the copy was complete)."""
        try:
            entries = list(os.scandir(self.outbox))
        except FileNotFoundError:
            return []
        found: list[tuple[float, str]] = []
        for entry in entries:
            if entry.name.startswith(INCOMING_PREFIX):
                Path(entry.path).unlink(missing_ok=True)
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            key = unquote(entry.name)
            if quote(key, safe="") != entry.name:
                log.warning("storage.outbox_foreign_file", file=entry.path)
                continue
            try:
                check_key(key)
            except CallrecError:
                log.warning("storage.outbox_foreign_file", file=entry.path)
                continue
            found.append((entry.stat(follow_symlinks=False).st_mtime, key))
        return [key for _, key in sorted(found)]

    def _move_all(self, files: Sequence[tuple[Path, str]], moved: list[str]) -> None:
        """Move each file in (``moved`` gets its key), then make the renames durable."""
        self.outbox.mkdir(parents=True, exist_ok=True)
        try:
            for source, key in files:
                self._move_in(source, self.path_for(key))
                moved.append(key)
        finally:
            if moved:
                _sync_folder(self.outbox)

    def _move_in(self, source: Path, target: Path) -> None:
        """Rename ``source`` to ``target``; across file systems, copy (synced) then remove."""
        try:
            source.replace(target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StorageError(
                    f"The file {source} cannot be moved into the outbox {self.outbox}: "
                    f"{exc.strerror}."
                ) from None
            self._copy_in(source, target)

    def _copy_in(self, source: Path, target: Path) -> None:
        temp = self.outbox / f"{INCOMING_PREFIX}{secrets.token_hex(8)}"
        try:
            with source.open("rb") as reader, temp.open("xb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
                writer.flush()
                os.fsync(writer.fileno())
            temp.replace(target)
        except OSError as exc:
            with contextlib.suppress(OSError):  # the copy's failure is the one to report
                temp.unlink(missing_ok=True)
            raise StorageError(
                f"The file {source} cannot be copied into the outbox {self.outbox}: {exc.strerror}."
            ) from None
        _sync_folder(self.outbox)
        source.unlink()


def _vouched_for(stored: ObjectInfo, local: _LocalFile) -> bool:
    """Whether the store's answer to the PUT already confirms the file's size and SHA-256."""
    return stored.verified and (stored.size, stored.sha256) == (local.size, local.sha256)


def outbox_file(outbox: Path, key: str) -> Path:
    """Where the file waiting for ``key`` is kept in ``outbox``, whether a queue runs or not."""
    return outbox / quote(check_key(key), safe="")


def _describe(path: Path) -> _LocalFile | None:
    try:
        before = path.stat()
        digest = file_sha256(path)
        after = path.stat()
    except FileNotFoundError:
        return None
    if _identity(before) != _identity(after):
        raise StorageError(f"The file {path} changed while it was being hashed.")
    return _LocalFile(size=after.st_size, sha256=digest, identity=_identity(after))


def _remove_if_unchanged(path: Path, local: _LocalFile) -> bool:
    """Remove the file if it is still the one that was confirmed; False if it was replaced."""
    try:
        if _identity(path.stat()) != local.identity:
            return False
        path.unlink()
    except FileNotFoundError:
        return True
    return True


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _sync_folder(folder: Path) -> None:
    """Make a rename into ``folder`` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, CallrecError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"A file in the outbox cannot be used: {exc.strerror or type(exc).__name__}."
    return type(exc).__name__

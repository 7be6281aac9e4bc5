"""Sealing: once a recording is closed, its mix and legs are encrypted and the plain WAVs go.

The controller hands each settled recording to ``Sealer.submit`` (no wait). One task owned
by the app (``Sealer.run``) seals whatever is queued together, in a worker thread, in this
order::

    1. a fresh data key per recording; each plain file encrypted to <file>.enc.part, flushed
    2. the data keys wrapped by the master key and committed to the database, one transaction
    3. each part renamed to <file>.enc, then each plain file deleted

Sealing the recordings queued at one moment together costs one transaction and one thread
hop for all of them: one at a time, the transaction cost more than the encryption (about
8 ms of CPU a recording against 1.5 ms; README, Performance).

A crash or a database failure before 2 leaves the plain files (and stray parts, replaced
next time); after 2, the plain files are still there until 3 ends. Either way the plain
files are what a later attempt finds: every ``sweep_interval_seconds`` the task looks at the
rows of recent calls (``sweep_lookback_hours``) this instance wrote and seals any whose plain
files are still there. Sealing again with a new key is always safe: readers prefer the plain
file while it exists (``recording/audio.py``).

The SHA-256 of each file is computed again while it is encrypted and compared with what was
measured when it closed; a difference is logged at error level (the file changed in
between), and the file is sealed all the same: its row's hash stays the evidence.

So a recording exists in plain only for the call's length plus the seconds it takes to see
it closed (``finalise.settle`` polls every 50 ms), half a second for others to join its
batch, and to seal it (milliseconds per minute of audio), in the recordings folder, where
Asterisk wrote it.

With object storage (``[storage] kind = "s3"``) each sealed file is then handed over
(``hand_over``: the upload queue's ``add_many``) under the key ``<relative plain path>.enc``. A
hand-over that fails (or a crash between the rename and it) leaves the sealed file in the
recordings folder, where readers still find it: failed ones are tried again at each sweep,
and the first sweep after a start hands over every recent sealed file still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.crypto import store
from callrec_ari.crypto.format import encrypt_file
from callrec_ari.crypto.keys import MasterKeys, new_data_key
from callrec_ari.db.models import Call, RecordingKey
from callrec_ari.db.session import describe_error
from callrec_ari.errors import CallrecError, RecordingError
from callrec_ari.recording.audio import sealed_path
from callrec_ari.recording.finalise import recording_closed
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.paths import service_path
from callrec_ari.records import RecordingStatus
from callrec_ari.supervision import Rounds

log = structlog.get_logger(__name__)

PART_SUFFIX = ".part"
_DATABASE_SECONDS = 10.0
_BATCH = 50  # recordings sealed together at most
# How long the first recording of a batch waits for others to join it. Under load this is
# what makes batches (at 30 calls/s about 15 a batch); a quiet line seals each call alone,
# half a second later than it could.
_LINGER_SECONDS = 0.5
_SETTLED = (RecordingStatus.COMPLETE.value, RecordingStatus.EMPTY.value)

HandOver = Callable[[Sequence[tuple[Path, str]]], Awaitable[None]]  # (sealed file, key)s


@dataclass(frozen=True, kw_only=True)
class Pending:
    """A recording to seal: its mix's relative path and the hashes measured when it closed."""

    relative_path: str
    hashes: dict[str, str | None]  # plain file name -> SHA-256 (None: not measured)


def plain_files(mix: Path) -> list[Path]:
    """The plain files of the recording whose mix is ``mix`` that exist now."""
    return [path for path in (mix, *leg_files(mix)) if path.is_file()]


class Sealer:
    """Seals closed recordings, from a queue and by sweeping recent rows (module docstring)."""

    def __init__(
        self,
        *,
        recordings_dir: Path,
        keys: MasterKeys,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        instance: str | None = None,
        sweep_interval_seconds: float = 60.0,
        lookback_hours: float = 48.0,
        linger_seconds: float = _LINGER_SECONDS,
        hand_over: HandOver | None = None,
    ) -> None:
        self._dir = recordings_dir
        self._keys = keys
        self._sessions = sessions
        self._clock = clock
        self._instance = instance
        self._interval = sweep_interval_seconds
        self._lookback = timedelta(hours=lookback_hours)
        self._linger = linger_seconds
        self._hand_over = hand_over
        self._not_handed: set[Path] = set()  # sealed files whose hand-over failed
        self._held: list[Pending] = []  # taken from the queue, waiting for its batch
        self._swept = False  # the first sweep looks at every recent row (``sweep``)
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self.sealed = 0  # recordings sealed (and handed over, with object storage) since start

    def submit(self, pending: Pending) -> None:
        """Queue a closed recording for sealing; returns at once."""
        self._queue.put_nowait(pending)

    @property
    def waiting(self) -> int:
        """Recordings queued and not sealed yet."""
        return self._queue.qsize() + len(self._held)

    async def run(self, rounds: Rounds | None = None) -> None:
        """Seal queued recordings as they come, and sweep on the interval; until cancelled."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            if loop.time() >= next_sweep:
                try:
                    await self.sweep()
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("seal.sweep_failed", error=describe_error(exc))
                    if rounds is not None:
                        rounds.failed(f"Recordings left plain could not be looked for: {exc}.")
                else:
                    if rounds is not None:
                        rounds.succeeded()
                next_sweep = loop.time() + self._interval
            try:
                async with asyncio.timeout(max(next_sweep - loop.time(), 0.0)):
                    batch = self._held = [await self._queue.get()]
            except TimeoutError:
                continue
            await asyncio.sleep(self._linger)
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self.seal_many(batch)
            self._held = []

    async def drain(self) -> int:
        """Seal at once what is queued or waiting for its batch; for a stop, once ``run`` is
        cancelled, so recordings of the last calls do not stay plain until the next start."""
        batch, self._held = self._held, []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return await self.seal_many(batch) if batch else 0

    async def sweep(
        self,
        *,
        full: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Seal the recordings of recent rows whose plain files are still there; how many.

        The first sweep after start (or ``full``) looks at every recent row, a key stored or
        not: a crash between storing the key and deleting the plain files leaves both. Later
        sweeps look only at rows without a key, so their cost does not grow with the calls of
        the last ``sweep_lookback_hours``. ``since`` and ``until`` (calls ended in
        ``[since, until)``) replace the lookback, for a walk through older rows.
        """
        if full is None:
            full, self._swept = not self._swept, True
        if self._not_handed:
            retry, self._not_handed = sorted(self._not_handed), set()
            # One deleted since (purge, erasure) is no longer anyone's to hand over.
            await self._hand_over_files([p for p in retry if await asyncio.to_thread(p.is_file)])
        if since is None:
            since = self._clock() - self._lookback
        query = select(Call.recording_path, Call.sha256, Call.caller_leg_sha256).where(
            Call.recording_status.in_(_SETTLED),
            Call.purged_at.is_(None),
            Call.recording_path.is_not(None),
            Call.ended_at >= since,
        )
        if until is not None:
            query = query.where(Call.ended_at < until)
        if not full:
            keyed = select(RecordingKey.recording_path).where(
                RecordingKey.recording_path == Call.recording_path
            )
            query = query.where(~keyed.exists())
        if self._instance is not None:
            query = query.where(or_(Call.handled_by == self._instance, Call.handled_by.is_(None)))
        async with self._sessions() as session:
            rows = (await session.execute(query.add_columns(Call.agent_leg_sha256))).all()
        sealed = 0
        batch: list[Pending] = []
        for path, mix_hash, caller_hash, agent_hash in rows:
            if path is None:
                continue
            if not await asyncio.to_thread(self._left_plain, path):
                if full and self._hand_over is not None:
                    await self._hand_over_files(await asyncio.to_thread(self._left_sealed, path))
                continue
            mix = service_path(self._dir, path)
            caller, agent = leg_files(mix)
            hashes = {mix.name: mix_hash, caller.name: caller_hash, agent.name: agent_hash}
            batch.append(Pending(relative_path=path, hashes=hashes))
            if len(batch) == _BATCH:  # one transaction for the keys of many recordings
                sealed += await self.seal_many(batch)
                batch = []
        if batch:
            sealed += await self.seal_many(batch)
        return sealed

    def _left_plain(self, relative: str) -> bool:
        try:
            mix = service_path(self._dir, relative)
        except RecordingError:
            return False
        return bool(plain_files(mix)) and recording_closed(mix) is True

    def _left_sealed(self, relative: str) -> list[Path]:
        """The sealed files of a recording still in the recordings folder (not handed over)."""
        try:
            mix = service_path(self._dir, relative)
        except RecordingError:
            return []
        return [
            sealed_path(plain)
            for plain in (mix, *leg_files(mix))
            if sealed_path(plain).is_file() and not plain.exists()
        ]

    async def _hand_over_files(self, sealed: list[Path]) -> None:
        """Give each sealed file to ``hand_over`` under ``<relative plain path>.enc``; a
        failure is logged and the file tried again at the next sweep."""
        if self._hand_over is None or not sealed:
            return
        files = [(path, path.relative_to(self._dir).as_posix()) for path in sealed]
        try:
            await self._hand_over(files)
        except (CallrecError, OSError) as exc:
            # Those handed over before the failure are gone from here: the retry skips them.
            self._not_handed.update(sealed)
            log.warning("seal.hand_over_failed", keys=[key for _, key in files], error=str(exc))
        else:
            self._not_handed.difference_update(sealed)

    async def seal(self, pending: Pending) -> bool:
        """Seal one recording now; False (logged) if it was left plain for a later attempt."""
        return await self.seal_many([pending]) == 1

    async def seal_many(self, batch: list[Pending]) -> int:
        """Seal these recordings together; how many were sealed (the others, logged, are left
        plain for a later attempt)."""
        jobs: list[_Job] = []
        for pending in batch:
            try:
                mix = service_path(self._dir, pending.relative_path)
            except RecordingError as exc:
                log.error("seal.path_refused", error=str(exc))
                continue
            jobs.append(_Job(pending=pending, mix=mix, key=new_data_key()))
        await asyncio.to_thread(_encrypt_jobs, jobs)
        ready = [job for job in jobs if job.parts]
        if not ready:
            return 0  # nothing plain left (sealed already, or deleted), or it failed (logged)
        wrapped = [(job.relative, self._keys.wrap(job.key, job.relative)) for job in ready]
        try:
            async with (
                asyncio.timeout(_DATABASE_SECONDS),
                self._sessions() as session,
                session.begin(),
            ):
                await store.put_keys(session, wrapped, now=self._clock())
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            await asyncio.to_thread(_drop, [plain for job in ready for plain in job.parts])
            log.warning(
                "seal.key_not_stored",
                paths=[job.relative for job in ready],
                error=describe_error(exc),
            )
            return 0
        except BaseException:
            await asyncio.to_thread(_drop, [plain for job in ready for plain in job.parts])
            raise
        plains = [plain for job in ready for plain in job.parts]
        await asyncio.to_thread(_commit, plains)
        log.debug("recordings.sealed", paths=[job.relative for job in ready])
        await self._hand_over_files([sealed_path(plain) for plain in plains])
        # Counted once handed over, so whoever waits on the count then finds the uploads queued.
        self.sealed += len(ready)
        return len(ready)


@dataclass(kw_only=True)
class _Job:
    """One recording of a batch: its data key and, once encrypted, its plain files."""

    pending: Pending
    mix: Path
    key: bytes
    parts: list[Path] = field(default_factory=list)

    @property
    def relative(self) -> str:
        return self.pending.relative_path


def _encrypt_jobs(jobs: list[_Job]) -> None:
    """Encrypt each job's files (``_encrypt_parts``); a job that fails is logged and left
    without parts, so the others go on."""
    for job in jobs:
        try:
            job.parts = _encrypt_parts(job.mix, job.key, job.pending.hashes)
        except (OSError, RecordingError) as exc:
            log.warning("seal.encrypt_failed", path=job.relative, error=str(exc))


def _encrypt_parts(mix: Path, key: bytes, hashes: dict[str, str | None]) -> list[Path]:
    """Encrypt every plain file of the recording to ``<file>.enc.part``; the plain files."""
    done: list[Path] = []
    try:
        for plain in plain_files(mix):
            found = encrypt_file(plain, _part(plain), key)
            expected = hashes.get(plain.name)
            if expected is not None and expected != found.sha256:
                log.error(
                    "seal.hash_differs",
                    file=plain.name,
                    measured=expected,
                    sealed=found.sha256,
                )
            done.append(plain)
    except BaseException:
        _drop(done)
        with contextlib.suppress(OSError):
            for plain in plain_files(mix):
                _part(plain).unlink(missing_ok=True)
        raise
    return done


def _part(plain: Path) -> Path:
    sealed = sealed_path(plain)
    return sealed.with_name(sealed.name + PART_SUFFIX)


def _drop(plains: list[Path]) -> None:
    for plain in plains:
        _part(plain).unlink(missing_ok=True)


def _commit(plains: list[Path]) -> None:
    """Rename the parts into place, then delete the plain files (each step made durable)."""
    folders = dict.fromkeys(plain.parent for plain in plains)
    for plain in plains:
        _part(plain).replace(sealed_path(plain))
    for folder in folders:
        _fsync_folder(folder)
    for plain in plains:
        plain.unlink(missing_ok=True)
    for folder in folders:
        _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

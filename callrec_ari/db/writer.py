"""The background writer: the call path hands snapshots over and never waits for the database.

``submit`` only files a snapshot in memory, keeping the newest one per call in the order the
calls were first submitted. ``run``, one task owned by the app, stores them in batches, one
transaction per batch. When a write fails the batch goes back to the front of the queue
(merged with any newer snapshot of the same calls) and is retried after an exponential
backoff, so an outage delays storage but drops nothing. If the database refuses a batch
while reachable, its snapshots are retried one per transaction, so one snapshot it keeps
refusing (logged at error level each time) cannot hold back the others.

With a ``Journal`` every snapshot is appended to it in ``submit`` (one ``write``, no wait),
fsync'd before the batch holding it goes to the database, and checkpointed once stored; a
new writer on the same journal starts with every snapshot the last one had not stored, so a
killed service loses nothing. Without a journal snapshots live in memory only. Either way,
``flush`` before cancelling ``run`` on shutdown.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]
import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.journal import Journal
from callrec_ari.db.repository import upsert_calls
from callrec_ari.db.session import describe_error
from callrec_ari.records import CallRecord

logger = structlog.get_logger(__name__)

# Failures that say the database is out of reach (or busy), not that it refused the data.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    OSError,  # includes ConnectionRefusedError and TimeoutError
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # server shutting down or starting up
    asyncpg.exceptions.InterfaceError,
)
# Expected while the database misbehaves: logged as warnings, without a traceback.
_EXPECTED: tuple[type[BaseException], ...] = (DBAPIError, *_UNREACHABLE)


@dataclass(slots=True)
class _Entry:
    seq: int  # submission number of the oldest snapshot this entry stands for
    record: CallRecord
    since: float  # monotonic time that oldest snapshot was queued


def _unreachable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # the chain of causes is short; the bound guards against cycles
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE) or (
            isinstance(seen, DBAPIError) and seen.connection_invalidated
        ):
            return True
        seen = seen.__cause__
    return False


class CallWriter:
    """Stores ``CallRecord`` snapshots in the background, retrying until each is stored.

    ``session_factory`` is usually ``create_session_factory(engine)``; ``sleep`` waits out
    the backoff and is replaced in tests.
    """

    def __init__(
        self,
        session_factory: Callable[[], AsyncSession],
        *,
        backoff_min_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        batch_size: int = 100,
        write_timeout_seconds: float = 30.0,
        linger_seconds: float = 0.0,
        journal: Journal | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        handled_by: str | None = None,
        node: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < backoff_min_seconds <= backoff_max_seconds:
            raise ValueError("Backoff must satisfy 0 < backoff_min_seconds <= backoff_max_seconds.")
        if batch_size < 1 or write_timeout_seconds <= 0:
            raise ValueError("batch_size and write_timeout_seconds must be positive.")
        self._session_factory = session_factory
        self._handled_by = handled_by  # stamped on every row: this instance's [ari] app
        self._node = node  # stamped on rows no node has written yet: this PBX node
        self._backoff_min = backoff_min_seconds
        self._backoff_max = backoff_max_seconds
        self._batch_size = batch_size
        self._write_timeout = write_timeout_seconds
        self._linger = linger_seconds
        self._sleep = sleep
        self._monotonic = monotonic
        self._pending: dict[str, _Entry] = {}
        self._in_flight: list[_Entry] = []
        self._submitted = 0
        self._work = asyncio.Event()
        self._changed = asyncio.Event()  # replaced after each write; wakes flush()
        self._journal = journal
        if journal is not None:
            self._submitted = journal.applied
            for entry in journal.unapplied():
                self._queue(entry.seq, entry.record)
            self._submitted = journal.last_seq
            if self._pending:
                logger.info("journal.replaying", calls=len(self._pending))

    @property
    def pending(self) -> int:
        """Snapshots not stored yet: queued (one per call) or being written."""
        return len(self._pending) + len(self._in_flight)

    @property
    def lag_seconds(self) -> float:
        """How long the oldest snapshot not stored yet has waited; 0 when all are stored."""
        entries = itertools.chain(self._in_flight, self._pending.values())
        oldest = min((entry.since for entry in entries), default=None)
        return 0.0 if oldest is None else max(self._monotonic() - oldest, 0.0)

    def unstored(self) -> list[CallRecord]:
        """The newest snapshot of each call not stored yet (after a crash: from the journal)."""
        entries = itertools.chain(self._in_flight, self._pending.values())
        return [entry.record for entry in entries]

    def submit(self, record: CallRecord) -> None:
        """Queue a snapshot for storage; returns at once and replaces an unstored older one."""
        if self._journal is None:
            seq = self._submitted + 1
        else:
            try:
                seq = self._journal.append(record)
            except OSError as exc:
                # The call goes on; its snapshot still reaches the database from memory.
                seq = self._journal.last_seq
                logger.error("journal.write_failed", call_id=record.uniqueid, error=str(exc))
        self._submitted = max(self._submitted, seq)
        self._queue(seq, record)

    def _queue(self, seq: int, record: CallRecord) -> None:
        entry = self._pending.get(record.uniqueid)
        if entry is None:
            self._pending[record.uniqueid] = _Entry(seq, record, self._monotonic())
        else:
            entry.record = record
        self._work.set()

    # A budget rather than asyncio.timeout: running out is an answer (False), not an error.
    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until every snapshot submitted so far is stored; False if ``timeout`` ran out."""
        target = self._submitted
        try:
            async with asyncio.timeout(timeout):
                while self._oldest_unstored() <= target:
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Store submitted snapshots until cancelled. Run one task per writer."""
        failures = 0
        while True:
            while not self._pending:
                self._work.clear()
                await self._work.wait()
            if self._linger and len(self._pending) < self._batch_size:
                # Let a call's next snapshots and other calls' join: one transaction for many.
                await asyncio.sleep(self._linger)
            batch = self._take()
            left: list[_Entry] = batch
            try:
                await self._sync_journal()
                left, error = await self._write(batch)
            finally:  # on cancellation too: whatever is not stored stays queued
                self._settle(left)
            try:
                await self._checkpoint()
            finally:
                # flush() returns only once the journal knows too: no replay after a clean stop.
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
            if error is None or not left:
                if failures:
                    logger.info("call_writes_resumed", failed_attempts=failures)
                failures = 0
                continue
            failures += 1
            delay = min(self._backoff_min * 2 ** (failures - 1), self._backoff_max)
            if isinstance(error, _EXPECTED):
                logger.warning(
                    "call_write_failed",
                    calls=len(left),
                    error=describe_error(error),
                    retry_in_seconds=delay,
                )
            else:
                # Not a database failure we know of, perhaps a bug: keep the traceback.
                logger.error(
                    "call_write_crashed", calls=len(left), retry_in_seconds=delay, exc_info=error
                )
            await self._sleep(delay)

    async def _sync_journal(self) -> None:
        if self._journal is None:
            return
        try:
            await asyncio.to_thread(self._journal.sync)
        except OSError as exc:
            logger.error("journal.sync_failed", error=str(exc))

    async def _checkpoint(self) -> None:
        if self._journal is None:
            return
        stored = self._oldest_unstored() - 1
        if stored <= self._journal.applied:
            return
        try:
            await asyncio.to_thread(self._journal.mark_applied, stored)
        except OSError as exc:
            # Only costs a replay of stored snapshots at the next start (upserts are idempotent).
            logger.error("journal.checkpoint_failed", error=str(exc))

    def _oldest_unstored(self) -> int:
        entries = itertools.chain(self._pending.values(), self._in_flight)
        return min((entry.seq for entry in entries), default=self._submitted + 1)

    def _take(self) -> list[_Entry]:
        keys = list(itertools.islice(self._pending, self._batch_size))
        self._in_flight = [self._pending.pop(key) for key in keys]
        return self._in_flight

    def _settle(self, left: list[_Entry]) -> None:
        if left:
            # Back to the front, holding the newest snapshot but the oldest submission number.
            front: dict[str, _Entry] = {}
            for entry in left:
                newer = self._pending.pop(entry.record.uniqueid, None)
                record = entry.record if newer is None else newer.record
                front[record.uniqueid] = _Entry(entry.seq, record, entry.since)
            self._pending = {**front, **self._pending}
        self._in_flight = []

    async def _write(self, batch: list[_Entry]) -> tuple[list[_Entry], Exception | None]:
        """Store the batch; return the entries still unstored and the last failure."""
        error = await self._attempt(batch)
        if error is None or _unreachable(error):
            return ([] if error is None else batch), error
        # Reachable but refused: find the snapshots it refuses and store the rest.
        left: list[_Entry] = []
        for index, entry in enumerate(batch):
            refusal = error if len(batch) == 1 else await self._attempt([entry])
            if refusal is None:
                continue
            error = refusal
            left.append(entry)
            if _unreachable(refusal):
                return left + batch[index + 1 :], error
            logger.error(
                "call_write_refused", call_id=entry.record.uniqueid, error=describe_error(refusal)
            )
        return left, error

    async def _attempt(self, entries: list[_Entry]) -> Exception | None:
        try:
            async with (
                asyncio.timeout(self._write_timeout),
                self._session_factory() as session,
                session.begin(),
            ):
                await upsert_calls(
                    session,
                    [entry.record for entry in entries],
                    handled_by=self._handled_by,
                    node=self._node,
                )
        except Exception as exc:  # noqa: BLE001 - run() logs every failure and retries
            return exc
        return None

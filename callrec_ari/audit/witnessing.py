"""Witnessing the audit trail's head outside the database, and checking the trail against it.

The service writes a witness record (``audit.witness``) whenever the head has moved since the
last one, every ``[audit] witness_interval_seconds``: appended to ``[audit] witness_file`` and
logged, so the log is a second copy. ``callrec audit witness`` writes one at once (for cron or
before a backup), and ``callrec audit verify`` checks the trail against a witness file.

A witness file that cannot be written is logged at error level every round and tried again
the next: the service's calls never wait for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit.trail import HEAD_ID
from callrec_ari.audit.witness import Report, Witness, check, genuine, read_lines, sign
from callrec_ari.audit.witness_key import load_key, load_or_create_key
from callrec_ari.config.settings import AuditSettings
from callrec_ari.db.models import AuditEntry, AuditHead
from callrec_ari.db.session import describe_error
from callrec_ari.errors import DatabaseError, InputError
from callrec_ari.supervision import UNWATCHED, Rounds

log = structlog.get_logger(__name__)
Sleep = Callable[[float], Awaitable[None]]

_LOOKUP_BATCH = 500  # witnessed seqs per query
_TAIL_BYTES = 4096  # enough for the last line of a witness file


async def current_head(session: AsyncSession) -> tuple[int, str]:
    """The head row's seq and hash; ``DatabaseError`` if the row is gone."""
    row = (
        await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID))
    ).one_or_none()
    if row is None:
        raise DatabaseError(
            "The audit trail's head row is missing: the trail was tampered with; "
            "run callrec audit verify."
        )
    return row.seq, row.hash


async def stored_hashes(session: AsyncSession, seqs: Iterable[int]) -> dict[int, str]:
    """The hash of each of the entries ``seqs`` that is still in the trail."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        chunk = wanted[start : start + _LOOKUP_BATCH]
        rows = await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))
        )
        found.update({row.seq: row.hash for row in rows})
    return found


def append_record(path: Path, witness: Witness) -> None:
    """Append ``witness`` as one line to ``path`` and force it to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() of one short line with O_APPEND: the service and a cron job writing at
    # once never interleave their lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (witness.to_line() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def last_record(path: Path, key: bytes) -> Witness | None:
    """The last line of the witness file if it is a genuine record; None otherwise."""
    try:
        with path.open("rb") as witness_file:
            witness_file.seek(max(0, witness_file.seek(0, os.SEEK_END) - _TAIL_BYTES))
            tail = witness_file.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    lines = read_lines(tail.splitlines()[-1:])
    witness = lines[0].witness if lines else None
    return witness if witness is not None and genuine(key, witness) else None


class Witnesser:
    """Signs the head and records it outside the database, remembering the last one."""

    def __init__(self, key: bytes, path: Path) -> None:
        self.key = key
        self.path = path
        self.last: Witness | None = None

    @classmethod
    def open(cls, settings: AuditSettings, *, resume: bool = True) -> Witnesser:
        """The witnesser of the configured files; the key is made if there is none yet. With
        ``resume``, the file's last genuine record counts as the last witness."""
        witnesser = cls(load_or_create_key(settings.witness_key_file), settings.witness_file)
        if not resume:
            return witnesser
        try:
            witnesser.last = last_record(settings.witness_file, witnesser.key)
        except OSError as exc:
            # Not fatal: the first round writes a witness and logs why that failed, if it does.
            log.error("audit.witness_unreadable", file=str(settings.witness_file), error=str(exc))
        return witnesser

    async def witness(self, session: AsyncSession, now: datetime) -> Witness:
        """Sign the current head, log it and append it to the file (``OSError`` if not)."""
        witness = await self.sign_head(session, now)
        await self.record(witness)
        return witness

    async def sign_head(self, session: AsyncSession, now: datetime) -> Witness:
        """A witness of the current head, not yet recorded."""
        seq, hash_ = await current_head(session)
        return sign(self.key, seq=seq, hash_=hash_, at=now)

    async def record(self, witness: Witness) -> None:
        """Log ``witness`` (the second copy, even if the file fails), then append it."""
        log.info("audit.witness", file=str(self.path), **witness.to_json())
        await asyncio.to_thread(append_record, self.path, witness)
        self.last = witness

    async def witness_if_moved(
        self,
        sessions: async_sessionmaker[AsyncSession],
        now: datetime,
        *,
        rounds: Rounds = UNWATCHED,
    ) -> Witness | None:
        """Witness the head if it moved since the last witness; failures are logged and
        reported to ``rounds``."""
        try:
            async with sessions() as session:
                witness = await self.sign_head(session, now)
                last = self.last
                if witness.seq == 0 or (
                    last and (last.seq, last.hash) == (witness.seq, witness.hash)
                ):
                    rounds.succeeded()  # nothing new to witness is a good round
                    return None
                await self._check_last(session)
        except (SQLAlchemyError, OSError, DatabaseError) as exc:
            log.warning("audit.witness_skipped", error=describe_error(exc))
            rounds.failed(f"The audit trail's head could not be read: {describe_error(exc)}.")
            return None
        try:
            await self.record(witness)
        except OSError as exc:
            # Not remembered as the last witness: the next round tries again.
            log.error("audit.witness_failed", file=str(self.path), error=describe_error(exc))
            rounds.failed(f"The witness file {self.path} cannot be written: {describe_error(exc)}.")
            return None
        rounds.succeeded()
        return witness

    async def _check_last(self, session: AsyncSession) -> None:
        # One lookup that makes a rewrite of witnessed entries show in the log within one
        # interval, without waiting for someone to run callrec audit verify.
        last = self.last
        if last is None:
            return
        if (await stored_hashes(session, [last.seq])).get(last.seq) != last.hash:
            log.error(
                "audit.witness_mismatch",
                seq=last.seq,
                hash=last.hash,
                problem=f"Entry {last.seq} no longer carries the hash witnessed at "
                f"{last.at.isoformat()}: the trail was rewritten or cut back; run "
                "callrec audit verify.",
            )


async def witness_periodically(
    witnesser: Witnesser,
    sessions: async_sessionmaker[AsyncSession],
    *,
    interval_seconds: float,
    clock: Callable[[], datetime],
    sleep: Sleep = asyncio.sleep,
    rounds: Rounds = UNWATCHED,
) -> None:
    """Witness the head now and every ``interval_seconds`` in which it moved, until cancelled."""
    while True:
        await witnesser.witness_if_moved(sessions, clock(), rounds=rounds)
        await sleep(interval_seconds)


async def check_against(
    session: AsyncSession, *, key: bytes, path: Path, head_seq: int | None
) -> Report:
    """The trail in ``session`` compared with the witness file at ``path``."""
    try:
        with path.open(encoding="utf-8", errors="replace") as witness_file:
            lines = read_lines(witness_file)
    except FileNotFoundError:
        raise InputError(f"The witness file {path} does not exist.") from None
    except OSError as exc:
        raise InputError(f"The witness file {path} cannot be read: {exc.strerror}.") from None
    seqs = [line.witness.seq for line in lines if line.witness is not None]
    stored = await stored_hashes(session, seqs)
    return check(key, lines, source=str(path), head_seq=head_seq, stored=stored)


def checking_key(settings: AuditSettings) -> bytes:
    """The key to check witnesses with; never made here (see ``witness_key``)."""
    return load_key(settings.witness_key_file)

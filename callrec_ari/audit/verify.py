"""Checking the audit trail's hash chain: ``callrec audit verify``.

Every entry's hash is recomputed from its fields and the previous entry's hash, and the
newest entry is compared with the head row, so this finds an edited entry, an entry removed
from the middle, a changed link, a removed tail (even an emptied table) and a missing head.

What it cannot find: someone able to write the database (and drop the append-only triggers
of migration 0004) who removes or rewrites entries *and* recomputes every later hash and the
head leaves a chain that is consistent in itself. Only a copy of the head hash kept outside
the database tells such a chain from the real one: the service's signed witness records
(``witness``, ``witnessing``), checked by ``callrec audit verify`` against the witness file,
or a head hash written down by hand (``callrec audit verify`` prints it for that reason): an
entry whose hash was witnessed must still be in the chain with that hash.

Entries are streamed in batches, so memory stays flat however long the trail is. The head
is read first and only entries up to it are checked: entries appended while the check runs
are left for the next one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit.chain import GENESIS, Link, link_hash
from callrec_ari.audit.trail import HEAD_ID
from callrec_ari.db.models import AuditEntry, AuditHead

MAX_PROBLEMS = 100  # past this many, the trail is plainly broken: count the rest only
BATCH = 1000


class Kind(enum.StrEnum):
    """What is wrong with the chain at one place."""

    EDITED = "edited"  # an entry's hash does not match its contents
    MISSING = "missing"  # entries are gone from the middle (or the start)
    BROKEN_LINK = "broken_link"  # an entry does not point at the one before it
    TAIL_REMOVED = "tail_removed"  # the newest entries are gone: the head is further on
    HEAD_MISSING = "head_missing"  # the head row itself is gone
    BEYOND_HEAD = "beyond_head"  # entries past the head: the head was moved back


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with the trail, told in a sentence naming the entry."""

    seq: int | None  # the entry concerned; None for the head row
    kind: Kind
    text: str


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The outcome of checking the whole chain."""

    entries: int  # entries checked
    head_seq: int | None  # as the head row says; None if it is missing
    head_hash: str | None
    problems: tuple[Problem, ...]
    more_problems: int = 0  # found beyond MAX_PROBLEMS and not listed

    @property
    def intact(self) -> bool:
        """Whether no problem at all was found."""
        return not self.problems


class _Findings:
    """Problems collected up to a limit."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.more = 0

    def add(self, seq: int | None, kind: Kind, text: str) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(Problem(seq=seq, kind=kind, text=text))
        else:
            self.more += 1


async def verify_chain(session: AsyncSession) -> Verdict:
    """Recompute and compare every hash of the trail, oldest first; never raises on tampering."""
    findings = _Findings()
    head = (
        await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID))
    ).one_or_none()
    if head is None:
        findings.add(
            None,
            Kind.HEAD_MISSING,
            "The audit head row is missing: it was deleted, so removed entries at the end "
            "cannot be detected.",
        )
    query = select(
        AuditEntry.seq,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.detail,
        AuditEntry.client,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    ).order_by(AuditEntry.seq)
    if head is not None:
        query = query.where(AuditEntry.seq <= head.seq)
    checked, last_seq, last_hash = 0, 0, GENESIS
    stream = await session.stream(query.execution_options(yield_per=BATCH))
    # A batch at a time: iterating rows one by one costs a greenlet switch per row.
    async for batch in stream.partitions():
        for row in batch:
            checked += 1
            _check_entry(findings, row, last_seq=last_seq, last_hash=last_hash)
            last_seq, last_hash = row.seq, row.hash
    if head is not None:
        _check_head(findings, head_seq=head.seq, head_hash=head.hash, seq=last_seq, hash_=last_hash)
        await _check_beyond_head(session, findings)
    return Verdict(
        entries=checked,
        head_seq=None if head is None else head.seq,
        head_hash=None if head is None else head.hash,
        problems=tuple(findings.listed),
        more_problems=findings.more,
    )


_Row = tuple[int, datetime, str, str, str | None, str, str | None, str, str]


def _check_entry(findings: _Findings, row: _Row, *, last_seq: int, last_hash: str) -> None:
    seq, at, actor, action, target, detail, client, prev_hash, stored_hash = row
    expected = last_seq + 1
    if seq != expected:
        findings.add(expected, Kind.MISSING, _missing(expected, seq))
    elif prev_hash != last_hash:
        # After a gap the link cannot match; the gap was reported already.
        findings.add(
            seq,
            Kind.BROKEN_LINK,
            f"Entry {seq} is not linked to the entry before it: an entry was replaced, "
            "reordered or inserted there.",
        )
    link = Link(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        detail=detail,
        client=client,
        prev_hash=prev_hash,
    )
    if link_hash(link) != stored_hash:
        findings.add(
            seq, Kind.EDITED, f"Entry {seq} was edited: its hash does not match its contents."
        )


def _missing(first: int, found: int) -> str:
    last = found - 1
    gone = f"Entry {first} is" if first == last else f"Entries {first} to {last} are"
    if first == 1:
        return f"{gone} missing: the chain starts at entry {found}."
    return f"{gone} missing: the chain jumps from entry {first - 1} to {found}."


def _check_head(
    findings: _Findings, *, head_seq: int, head_hash: str, seq: int, hash_: str
) -> None:
    if seq < head_seq:
        gone = (
            f"Entry {head_seq} was"
            if seq + 1 == head_seq
            else f"Entries {seq + 1} to {head_seq} were"
        )
        left = "no entry is left" if seq == 0 else f"the newest entry left is {seq}"
        findings.add(
            seq + 1,
            Kind.TAIL_REMOVED,
            f"{gone} removed from the end: the head counts {head_seq}, {left}.",
        )
    elif hash_ != head_hash:
        findings.add(
            seq,
            Kind.BROKEN_LINK,
            f"Entry {seq} is not the one the head recorded: the newest entry was replaced "
            "or the head was changed.",
        )


async def _check_beyond_head(session: AsyncSession, findings: _Findings) -> None:
    # Read the newest entry before the head again: an append commits both together and the
    # head only moves forward, so a head read later never lags behind an honest entry.
    newest = await session.scalar(select(func.max(AuditEntry.seq)))
    head_seq = await session.scalar(select(AuditHead.seq).where(AuditHead.id == HEAD_ID))
    if newest is None or head_seq is None or newest <= head_seq:
        return
    extra = f"Entry {newest} lies" if newest == head_seq + 1 else f"Entries up to {newest} lie"
    findings.add(
        head_seq + 1,
        Kind.BEYOND_HEAD,
        f"{extra} beyond the head (entry {head_seq}): the head was moved back, "
        "or entries were added around the trail.",
    )

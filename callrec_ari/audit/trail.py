"""Writing to the audit trail, inside the transaction of the action it records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit.chain import Link, canonical_json, link_hash
from callrec_ari.db.models import AuditEntry, AuditHead
from callrec_ari.db.session import AUDIT_CLIENT
from callrec_ari.errors import DatabaseError

HEAD_ID = 1


async def append(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
    client: str | None = None,
) -> AuditEntry:
    """Add one entry, chained to the newest, in the caller's open transaction.

    The head row is updated first: that locks it (a row lock on PostgreSQL, the write lock
    on SQLite) until the transaction ends, so two appends never chain to the same entry, and
    the entry is only there if the action it records was committed with it.
    """
    bumped = await session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    )
    row = bumped.one_or_none()
    if row is None:
        raise DatabaseError(
            "The audit trail's head row is missing: the trail was tampered with; "
            "run callrec audit verify."
        )
    seq, prev_hash = row
    if client is None:  # the command line's operator, whom ``--actor`` cannot hide
        client = session.info.get(AUDIT_CLIENT)
    link = Link(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        detail=canonical_json(detail or {}),
        client=client,
        prev_hash=prev_hash,
    )
    entry = AuditEntry(
        seq=link.seq,
        at=link.at,
        actor=link.actor,
        action=link.action,
        target=link.target,
        detail=link.detail,
        client=link.client,
        prev_hash=link.prev_hash,
        hash=link_hash(link),
    )
    session.add(entry)
    # Written now, not left to autoflush: the head must never name an entry not yet there
    # (migration 0004 refuses such a head).
    await session.flush()
    await session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=entry.hash))
    return entry

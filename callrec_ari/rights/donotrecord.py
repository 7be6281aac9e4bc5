"""The do-not-record list: numbers whose calls are connected without recording.

A person who withdraws consent or objects may ask never to be recorded again. The running
service keeps the list in memory and refreshes it with ``numbers()``; the call path decides
what such a caller hears (``[consent] do_not_record``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.audit import trail
from callrec_ari.db.models import DoNotRecord
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.numbers import parse_e164
from callrec_ari.reasons import is_blank
from callrec_ari.rights.audit import (
    linked_request,
    record_action,
    require_rights_role,
    require_text,
)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One number on the list."""

    number: str
    added_at: datetime
    added_by: str
    reason: str
    request_id: int | None


async def numbers(session: AsyncSession) -> frozenset[str]:
    """Every E.164 number on the list (what the call path checks callers against)."""
    return frozenset(await session.scalars(select(DoNotRecord.number_e164)))


async def entries(session: AsyncSession) -> list[Entry]:
    """The whole list, oldest entry first (no role check, no trail: for the service itself)."""
    rows = await session.scalars(
        select(DoNotRecord).order_by(DoNotRecord.added_at, DoNotRecord.number_e164)
    )
    return [_entry(row) for row in rows]


async def read_entries(
    session: AsyncSession, *, actor: Actor, now: datetime, client: str | None = None
) -> list[Entry]:
    """The whole list as staff read it: the data-protection role only, and the reading is
    added to the audit trail in the caller's transaction."""
    require_rights_role(actor, "read the do-not-record list")
    listed = await entries(session)
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="dnr.list",
        detail={"results": len(listed)},
        client=client,
    )
    return listed


async def add(
    session: AsyncSession,
    number: str,
    *,
    reason: str,
    actor: Actor,
    now: datetime,
    region: str,
    request_id: int | None = None,
) -> Entry:
    """Put ``number`` on the list; ``InputError`` if it is already there."""
    require_rights_role(actor, "change the do-not-record list")
    e164 = parse_e164(number, region)
    why = require_text(reason, "reason for not recording")
    await linked_request(session, request_id, number=e164)
    existing = await session.get(DoNotRecord, e164)
    if existing is not None:
        raise InputError(
            f"Number {e164} is already on the do-not-record list "
            f"(since {existing.added_at.date().isoformat()})."
        )
    return _entry(await put(session, e164, reason=why, actor=actor, now=now, request_id=request_id))


async def put(
    session: AsyncSession,
    e164: str,
    *,
    reason: str,
    actor: Actor,
    now: datetime,
    request_id: int | None,
) -> DoNotRecord:
    """Add a checked E.164 number unless it is listed already; record the action if added.

    For other rights operations (erasure) that have checked their inputs already.
    """
    existing = await session.get(DoNotRecord, e164)
    if existing is not None:
        return existing
    row = DoNotRecord(
        number_e164=e164, added_at=now, added_by=actor.name, reason=reason, request_id=request_id
    )
    session.add(row)
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="do_not_record_added",
        now=now,
        detail={"number": e164, "reason": reason},
    )
    await session.flush()
    return row


async def remove(
    session: AsyncSession,
    number: str,
    *,
    actor: Actor,
    now: datetime,
    region: str,
    reason: str | None = None,
    request_id: int | None = None,
) -> Entry:
    """Take ``number`` off the list (its calls may be recorded again with consent)."""
    require_rights_role(actor, "change the do-not-record list")
    e164 = parse_e164(number, region)
    why = None if is_blank(reason) else (reason or "").strip()
    await linked_request(session, request_id, number=e164)
    row = await session.get(DoNotRecord, e164)
    if row is None:
        raise NotFoundError(f"Number {e164} is not on the do-not-record list.")
    entry = _entry(row)
    await session.delete(row)
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="do_not_record_removed",
        now=now,
        detail={"number": e164, "reason": why, "added_at": entry.added_at.isoformat()},
    )
    await session.flush()
    return entry


def _entry(row: DoNotRecord) -> Entry:
    return Entry(
        number=row.number_e164,
        added_at=row.added_at,
        added_by=row.added_by,
        reason=row.reason,
        request_id=row.request_id,
    )

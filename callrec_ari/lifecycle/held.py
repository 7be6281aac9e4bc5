"""Which calls are under an active legal hold: the one definition purge and erasure share.

A hold is active from when it is placed until it is released or its end date passes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.models import Call, LegalHold, LegalHoldCall


def active_hold(now: datetime) -> ColumnElement[bool]:
    """A condition on ``LegalHold`` rows: placed, not released, not past their end date."""
    return and_(
        LegalHold.released_at.is_(None),
        or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now),
    )


def is_held(now: datetime) -> ColumnElement[bool]:
    """A condition on ``Call`` rows: at least one active hold covers the call."""
    return exists(
        select(LegalHoldCall.call_id)
        .join(LegalHold, LegalHold.id == LegalHoldCall.hold_id)
        .where(LegalHoldCall.call_id == Call.id, active_hold(now))
    )


async def held_call_ids(
    session: AsyncSession, call_ids: Collection[int], now: datetime
) -> set[int]:
    """Those of ``call_ids`` that an active hold covers."""
    if not call_ids:
        return set()
    rows = await session.scalars(
        select(LegalHoldCall.call_id)
        .join(LegalHold, LegalHold.id == LegalHoldCall.hold_id)
        .where(LegalHoldCall.call_id.in_(list(call_ids)), active_hold(now))
        .distinct()
    )
    return set(rows)

"""Rectification with a visible history (GDPR Art. 16, seed 002 §15).

A corrected field keeps one ``call_corrections`` row per change: old and new value, who,
when and why, so the original stays visible. ``rectified_at`` on the call stops later call
snapshots from overwriting the correction (``db.repository.upsert_calls``). Only finished
calls are corrected: a call still in progress would be overwritten by its next snapshot.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.db.models import CallCorrection
from callrec_ari.errors import InputError
from callrec_ari.numbers import parse_e164
from callrec_ari.rights.audit import (
    linked_request,
    record_action,
    require_rights_role,
    require_text,
)
from callrec_ari.rights.subject import is_finished, require_call_row, require_live_call_row

_MAX_LENGTH = {"caller_number": 64, "agent": 128, "dialled_number": 64}


class Field(enum.StrEnum):
    """The call fields that may be corrected."""

    CALLER_NUMBER = "caller_number"  # caller_e164 is recomputed from it
    AGENT = "agent"
    DIALLED_NUMBER = "dialled_number"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One correction of one field."""

    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    reason: str
    request_id: int | None


@dataclass(frozen=True, kw_only=True)
class History:
    """A call's corrections, oldest first, and each corrected field's original value."""

    uniqueid: str
    changes: tuple[Change, ...]

    @property
    def originals(self) -> dict[str, str | None]:
        """The value each corrected field had before its first correction."""
        first: dict[str, str | None] = {}
        for change in self.changes:
            first.setdefault(change.field, change.old_value)
        return first


def parse_field(text: str) -> Field:
    """The field a person named; ``InputError`` listing the correctable fields otherwise."""
    try:
        return Field(text.strip())
    except ValueError:
        known = ", ".join(field.value for field in Field)
        raise InputError(f"Field {text!r} cannot be corrected (only: {known}).") from None


async def rectify(
    session: AsyncSession,
    uniqueid: str,
    *,
    field: str,
    value: str,
    reason: str,
    actor: Actor,
    now: datetime,
    region: str,
    request_id: int | None = None,
) -> Change:
    """Correct one field of a finished call, keeping the old value in its history."""
    require_rights_role(actor, "correct calls")
    which = parse_field(field)
    new = require_text(value, f"new value of {which}")
    if len(new) > _MAX_LENGTH[which]:
        raise InputError(
            f"The new value of {which} is longer than {_MAX_LENGTH[which]} characters."
        )
    why = require_text(reason, "reason for the correction")
    e164 = parse_e164(new, region) if which is Field.CALLER_NUMBER else None
    call = await require_live_call_row(session, uniqueid)
    await linked_request(session, request_id)
    if not is_finished(call):
        raise InputError(f"Call {uniqueid!r} has not finished yet; correct it once it has ended.")
    old: str | None = getattr(call, which.value)
    if old == new:
        raise InputError(f"Call {uniqueid!r} already has {which} {new!r}.")
    setattr(call, which.value, new)
    if which is Field.CALLER_NUMBER:
        call.caller_e164 = e164
    call.rectified_at = now
    call.updated_at = now
    row = CallCorrection(
        call_id=call.id,
        field=which.value,
        old_value=old,
        new_value=new,
        changed_by=actor.name,
        changed_at=now,
        reason=why,
        request_id=request_id,
    )
    session.add(row)
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="rectified",
        now=now,
        detail={"call": uniqueid, "field": which.value, "reason": why},
    )
    await session.flush()
    return _change(row)


async def history(session: AsyncSession, uniqueid: str) -> History:
    """Every correction of a call, oldest first; ``NotFoundError`` for an unknown call.

    An erased call has none left: erasure deletes its corrections with the old values.
    """
    call = await require_call_row(session, uniqueid)
    rows = await session.scalars(
        select(CallCorrection)
        .where(CallCorrection.call_id == call.id)
        .order_by(CallCorrection.changed_at, CallCorrection.id)
    )
    return History(uniqueid=uniqueid, changes=tuple(_change(row) for row in rows))


def _change(row: CallCorrection) -> Change:
    return Change(
        field=row.field,
        old_value=row.old_value,
        new_value=row.new_value,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        reason=row.reason,
        request_id=row.request_id,
    )

"""Restriction of processing (GDPR Art. 18) and objection (Art. 21), per call or per number.

A restricted call is kept but nobody except the data-protection officer may play or export
it (``callrec_ari.access``) until the restriction is lifted. Who restricted it, when and why
stay on the row; lifting clears them, and both steps stay in ``dsr_actions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.db.models import Call
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.numbers import parse_e164
from callrec_ari.rights.audit import (
    linked_request,
    record_action,
    require_rights_role,
    require_text,
)
from callrec_ari.rights.subject import calls_of_number, require_live_call_row


@dataclass(frozen=True, kw_only=True)
class Restriction:
    """What one restrict or lift changed."""

    changed: tuple[str, ...]  # uniqueids restricted (or lifted) now
    unchanged: tuple[str, ...]  # uniqueids that already were (or were not)


# What each direction is called: the permission asked for and the reason's name.
_WORDS = {
    True: ("restrict calls", "reason for the restriction"),
    False: ("lift restrictions", "reason for lifting the restriction"),
}


async def change_call(
    session: AsyncSession,
    uniqueid: str,
    *,
    restrict: bool,
    reason: str,
    actor: Actor,
    now: datetime,
    request_id: int | None = None,
) -> Restriction:
    """Restrict one call (or lift its restriction); ``InputError`` if it is restricted
    already (or not restricted), or erased."""
    permission, reason_name = _WORDS[restrict]
    require_rights_role(actor, permission)
    why = require_text(reason, reason_name)
    call = await require_live_call_row(session, uniqueid)
    await linked_request(session, request_id)
    if restrict and call.restricted_at is not None:
        raise InputError(f"Call {uniqueid!r} is already restricted (by {call.restricted_by}).")
    if not restrict and call.restricted_at is None:
        raise InputError(f"Call {uniqueid!r} is not restricted.")
    return await _apply(
        session, [call], restrict=restrict, reason=why, actor=actor, now=now, request_id=request_id
    )


async def change_number(
    session: AsyncSession,
    number: str,
    *,
    restrict: bool,
    reason: str,
    actor: Actor,
    now: datetime,
    region: str,
    request_id: int | None = None,
) -> Restriction:
    """Restrict (or lift the restriction of) every stored call from ``number``;
    ``NotFoundError`` if it has none."""
    permission, reason_name = _WORDS[restrict]
    require_rights_role(actor, permission)
    e164 = parse_e164(number, region)
    why = require_text(reason, reason_name)
    await linked_request(session, request_id, number=e164)
    calls = await _calls_of(session, e164, region)
    return await _apply(
        session,
        calls,
        restrict=restrict,
        reason=why,
        actor=actor,
        now=now,
        request_id=request_id,
        number=e164,
    )


# The four verbs the command line, the web app and the tests name.
restrict_call = partial(change_call, restrict=True)
lift_call = partial(change_call, restrict=False)
restrict_number = partial(change_number, restrict=True)
lift_number = partial(change_number, restrict=False)


async def _calls_of(session: AsyncSession, e164: str, region: str) -> list[Call]:
    calls = await calls_of_number(session, e164, region)
    if not calls:
        raise NotFoundError(f"No stored calls are from {e164}.")
    return calls


async def _apply(
    session: AsyncSession,
    calls: Sequence[Call],
    *,
    restrict: bool,
    reason: str,
    actor: Actor,
    now: datetime,
    request_id: int | None,
    number: str | None = None,
) -> Restriction:
    """Restrict (or lift) those of ``calls`` not in that state yet, and record what changed."""
    changed = [call for call in calls if (call.restricted_at is None) == restrict]
    for call in changed:
        call.restricted_at = now if restrict else None
        call.restricted_by = actor.name if restrict else None
        call.restriction_reason = reason if restrict else None
        call.updated_at = now
    result = Restriction(
        changed=tuple(call.uniqueid for call in changed),
        unchanged=tuple(call.uniqueid for call in calls if call not in changed),
    )
    detail: dict[str, object] = {"calls": list(result.changed), "reason": reason}
    if number is not None:
        detail["number"] = number
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="restricted" if restrict else "unrestricted",
        now=now,
        detail=detail,
    )
    return result

"""One person's calls: which rows belong to a number, and how a call is shown to staff.

Rows stored since callrec normalised numbers carry ``caller_e164``. Older rows, or rows whose
number could not be normalised when stored, only have ``caller_number`` as the trunk sent it;
for those, the usual spellings of the same number are matched exactly.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import CallFacts
from callrec_ari.db.models import Call, LegalHold, LegalHoldCall
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.lifecycle.held import active_hold
from callrec_ari.lifecycle.reduce import ERASURE
from callrec_ari.records import RecordingStatus


def spellings(e164: str, region: str) -> tuple[str, ...]:
    """How a trunk may have sent ``e164`` (``+48…``, ``48…``, ``0048…``, and national forms).

    National forms are only added for numbers of ``region``'s country: elsewhere they would
    be some other subscriber's number.
    """
    number = phonenumbers.parse(e164)
    digits = e164.removeprefix("+")
    forms = {e164, digits, f"00{digits}"}
    if number.country_code == phonenumbers.country_code_for_region(region):
        forms.add(phonenumbers.national_significant_number(number))
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms.add("".join(ch for ch in national if ch.isdigit()))
    return tuple(sorted(forms))


def by_caller_e164(e164: str) -> ColumnElement[bool]:
    """Rows whose normalised caller number is ``e164``."""
    return Call.caller_e164 == e164


def by_caller_spelling(e164: str, region: str) -> ColumnElement[bool]:
    """Rows without a normalised number whose number as received is a spelling of ``e164``."""
    # Not ``caller_e164 IS NULL``: planners then walk the e164 index through every row
    # lacking a normalised number; wrapped, only ix_calls_caller_number_started_at fits.
    return and_(
        Call.caller_number.in_(spellings(e164, region)),
        func.coalesce(Call.caller_e164, "") == "",
    )


def of_number(e164: str, region: str) -> ColumnElement[bool]:
    """Rows of calls from ``e164``, whichever way the number was stored."""
    return or_(by_caller_e164(e164), by_caller_spelling(e164, region))


async def calls_of_number(session: AsyncSession, e164: str, region: str) -> list[Call]:
    """Every stored, not yet purged call from ``e164``, newest first."""
    rows = await session.scalars(
        select(Call)
        .where(of_number(e164, region), Call.purged_at.is_(None))
        .order_by(Call.started_at.desc(), Call.id.desc())
    )
    return list(rows)


async def require_call_row(session: AsyncSession, uniqueid: str) -> Call:
    """The row of one call, with no access check (the caller checked the role already);
    ``NotFoundError`` if no call has this ``uniqueid``."""
    call = await session.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None:
        raise NotFoundError(f"Call {uniqueid!r} does not exist.")
    return call


async def require_live_call_row(session: AsyncSession, uniqueid: str) -> Call:
    """The row of a call not yet purged; ``InputError`` if retention or erasure reduced it."""
    call = await require_call_row(session, uniqueid)
    if call.purged_at is not None:
        how = "erased" if call.purge_reason == ERASURE else "deleted at the end of its retention"
        raise InputError(f"Call {uniqueid!r} was already {how}; nothing personal is left of it.")
    return call


async def hold_cases(
    session: AsyncSession, call_ids: Collection[int], now: datetime
) -> dict[int, tuple[str, ...]]:
    """For each of ``call_ids`` under an active legal hold, the holds' case references."""
    if not call_ids:
        return {}
    rows = await session.execute(
        select(LegalHoldCall.call_id, LegalHold.case_reference)
        .join(LegalHold, LegalHold.id == LegalHoldCall.hold_id)
        .where(LegalHoldCall.call_id.in_(list(call_ids)), active_hold(now))
        .order_by(LegalHoldCall.call_id, LegalHold.id)
    )
    cases: dict[int, list[str]] = {}
    for call_id, case_reference in rows:
        cases.setdefault(call_id, []).append(case_reference)
    return {call_id: tuple(refs) for call_id, refs in cases.items()}


def facts(call: Call) -> CallFacts:
    """What the access rules need to know about a call."""
    return CallFacts(agent=call.agent, restricted=call.restricted_at is not None)


def is_finished(call: Call) -> bool:
    """Whether the call ended and its recording is settled (nothing more will change)."""
    return call.ended_at is not None and call.recording_status != RecordingStatus.RECORDING


@dataclass(frozen=True, kw_only=True)
class CallSummary:
    """What is kept about one call, as staff and the person recorded see it."""

    uniqueid: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    direction: str
    caller_number: str | None
    caller_e164: str | None
    dialled_number: str
    agent: str | None
    languages: tuple[str, ...]
    consent: str
    recording_status: str
    recording_path: str | None
    duration_seconds: float | None
    size_bytes: int | None
    sha256: str | None
    retention_policy: str
    delete_after: datetime | None
    restricted_at: datetime | None
    restriction_reason: str | None
    rectified_at: datetime | None
    erasure_requested_at: datetime | None
    legal_holds: tuple[str, ...]  # case references of active holds

    @classmethod
    def of(cls, call: Call, holds: tuple[str, ...] = ()) -> CallSummary:
        """The summary of a stored row."""
        return cls(
            uniqueid=call.uniqueid,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            direction=call.direction,
            caller_number=call.caller_number,
            caller_e164=call.caller_e164,
            dialled_number=call.dialled_number,
            agent=call.agent,
            languages=tuple(call.languages.split(",")) if call.languages else (),
            consent=call.consent,
            recording_status=call.recording_status,
            recording_path=call.recording_path,
            duration_seconds=call.duration_seconds,
            size_bytes=call.size_bytes,
            sha256=call.sha256,
            retention_policy=call.retention_policy,
            delete_after=call.delete_after,
            restricted_at=call.restricted_at,
            restriction_reason=call.restriction_reason,
            rectified_at=call.rectified_at,
            erasure_requested_at=call.erasure_requested_at,
            legal_holds=holds,
        )

    @property
    def restricted(self) -> bool:
        """Whether processing of the call is restricted (GDPR Art. 18)."""
        return self.restricted_at is not None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values: ISO 8601 times, lists for tuples."""
        result: dict[str, Any] = {}
        for key, value in vars(self).items():
            if isinstance(value, datetime):
                result[key] = value.isoformat()
            elif isinstance(value, tuple):
                result[key] = list(value)
            else:
                result[key] = value
        return result

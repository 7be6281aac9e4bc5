"""Finding everything kept about one phone number: its calls, a page at a time, and the rest.

Calls come newest first in pages; the next page starts after an opaque cursor (the last
call's start time and row id), so a page costs the same however deep it is. Each page reads
two index ranges: ``ix_calls_caller_e164_started_at`` for normalised rows and
``ix_calls_caller_number_started_at`` for rows stored without a normalised number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.models import Call, CallCorrection, DoNotRecord, DsrRequest, LegalHold
from callrec_ari.errors import InputError
from callrec_ari.ids import fits
from callrec_ari.numbers import parse_e164
from callrec_ari.rights.requests import RequestView
from callrec_ari.rights.subject import (
    CallSummary,
    by_caller_e164,
    by_caller_spelling,
    hold_cases,
    spellings,
)

MAX_PAGE = 500
_SEPARATOR = "~"


@dataclass(frozen=True, kw_only=True)
class Cursor:
    """Where a page ended: the last call's start time and row id."""

    started_at: datetime
    row_id: int

    def __str__(self) -> str:
        return f"{self.started_at.isoformat()}{_SEPARATOR}{self.row_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor ``str(cursor)`` gave; ``InputError`` if it is not one."""
        moment, _, row_id = text.partition(_SEPARATOR)
        try:
            started_at = datetime.fromisoformat(moment)
            parsed = cls(started_at=started_at, row_id=int(row_id))
        except ValueError:
            raise InputError(f"Page cursor {text!r} is not one this service gave out.") from None
        if started_at.tzinfo is None or not fits(parsed.row_id):
            raise InputError(f"Page cursor {text!r} is not one this service gave out.")
        return parsed

    def after(self) -> ColumnElement[bool]:
        """Rows that come after this cursor, newest first."""
        return or_(
            Call.started_at < self.started_at,
            and_(Call.started_at == self.started_at, Call.id < self.row_id),
        )


@dataclass(frozen=True, kw_only=True)
class Page:
    """One page of a number's calls, and where the next one starts (None: no more)."""

    number: str
    calls: tuple[CallSummary, ...]
    next_cursor: str | None


async def find_calls(
    session: AsyncSession,
    number: str,
    *,
    region: str,
    now: datetime,
    limit: int = 50,
    after: str | None = None,
) -> Page:
    """The calls from ``number`` (as a person typed it), newest first, ``limit`` at a time.

    Erased calls are not found: their rows no longer hold the number. The caller decides what
    a person may see of each call (``callrec_ari.access.may_see``).
    """
    e164 = parse_e164(number, region)
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"Page size {limit} is out of range (1 to {MAX_PAGE}).")
    cursor = Cursor.parse(after) if after else None
    rows: list[Call] = []
    for condition in (by_caller_e164(e164), by_caller_spelling(e164, region)):
        query = select(Call).where(condition)
        if cursor is not None:
            query = query.where(cursor.after())
        query = query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1)
        rows.extend(await session.scalars(query))
    rows.sort(key=lambda call: (call.started_at, call.id), reverse=True)
    page, more = rows[:limit], len(rows) > limit
    holds = await hold_cases(session, [call.id for call in page], now)
    last = page[-1] if page else None
    return Page(
        number=e164,
        calls=tuple(CallSummary.of(call, holds.get(call.id, ())) for call in page),
        next_cursor=str(Cursor(started_at=last.started_at, row_id=last.id))
        if more and last
        else None,
    )


@dataclass(frozen=True, kw_only=True)
class Correction:
    """A rectification of some call that names the number as old or new caller number."""

    uniqueid: str
    old_value: str | None
    new_value: str | None
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True, kw_only=True)
class Findings:
    """Everything kept about one number: a page of its calls, and what else names it."""

    number: str
    calls: Page
    requests: tuple[RequestView, ...]
    holds_by_number: tuple[str, ...]  # case references of holds placed on this number
    do_not_record_since: datetime | None
    corrections: tuple[Correction, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "number": self.number,
            "calls": [call.to_json() for call in self.calls.calls],
            "next_cursor": self.calls.next_cursor,
            "requests": [request.to_json() for request in self.requests],
            "holds_by_number": list(self.holds_by_number),
            "do_not_record_since": self.do_not_record_since.isoformat()
            if self.do_not_record_since
            else None,
            "corrections": [
                {**vars(c), "changed_at": c.changed_at.isoformat()} for c in self.corrections
            ],
        }


async def find_everything(
    session: AsyncSession,
    number: str,
    *,
    region: str,
    now: datetime,
    limit: int = 50,
    after: str | None = None,
) -> Findings:
    """A number's calls (one page), requests, holds, do-not-record entry and corrections."""
    page = await find_calls(session, number, region=region, now=now, limit=limit, after=after)
    e164 = page.number
    requests = await session.scalars(
        select(DsrRequest).where(DsrRequest.number_e164 == e164).order_by(DsrRequest.id)
    )
    entry = await session.get(DoNotRecord, e164)
    holds = await session.scalars(
        select(LegalHold.case_reference).where(LegalHold.number_e164 == e164).order_by(LegalHold.id)
    )
    forms = [*spellings(e164, region)]
    corrections = await session.execute(
        select(CallCorrection, Call.uniqueid)
        .join(Call, Call.id == CallCorrection.call_id)
        .where(
            CallCorrection.field == "caller_number",
            or_(CallCorrection.old_value.in_(forms), CallCorrection.new_value.in_(forms)),
        )
        .order_by(CallCorrection.id)
    )
    return Findings(
        number=e164,
        calls=page,
        requests=tuple(RequestView.of(row, now) for row in requests),
        holds_by_number=tuple(holds),
        do_not_record_since=entry.added_at if entry else None,
        corrections=tuple(
            Correction(
                uniqueid=uniqueid,
                old_value=row.old_value,
                new_value=row.new_value,
                changed_at=row.changed_at,
                changed_by=row.changed_by,
            )
            for row, uniqueid in corrections
        ),
    )

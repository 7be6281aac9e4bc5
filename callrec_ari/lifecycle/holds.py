"""Legal holds: keep chosen calls from deletion until released (seed 000 §5.7, 003 §12).

A hold names the calls it covers when it is placed: explicit calls, or every stored call
from one number in a period (``from`` included, ``to`` excluded). Calls that arrive later
are not added. While any active hold covers a call, neither retention nor erasure deletes
it; once the last one is released (or has passed its end date), deletion resumes under the
call's own policy, at once if that date has already passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.config import RetentionPolicy
from callrec_ari.db.models import Call, LegalHold, LegalHoldCall
from callrec_ari.db.session import describe_error
from callrec_ari.errors import DatabaseError, InputError, NotFoundError
from callrec_ari.lifecycle.due import scopes
from callrec_ari.lifecycle.held import active_hold, held_call_ids
from callrec_ari.lifecycle.locks import take_write_lock
from callrec_ari.lifecycle.purge import PurgeReport, run_purge
from callrec_ari.log import mask_number
from callrec_ari.numbers import parse_e164
from callrec_ari.reasons import is_blank
from callrec_ari.storage.recordings import Offsite

_SHORT_TEXT = 128  # case reference and actor columns
_NAMED = 5  # unknown calls named in an error before "and N more"


@dataclass(frozen=True, kw_only=True)
class HoldRequest:
    """Who places a hold, for which case and why, and until when (None: until released)."""

    case_reference: str
    reason: str
    placed_by: str
    ends_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Hold:
    """A hold as stored, with how many calls it covers and whether it protects them now."""

    id: int
    case_reference: str
    reason: str
    placed_by: str
    placed_at: datetime
    ends_at: datetime | None
    number_e164: str | None
    period_from: datetime | None
    period_to: datetime | None
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None
    calls: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class Released:
    """A released hold, how many of its calls other holds still keep, and what was purged."""

    hold: Hold
    still_held: int
    purged: PurgeReport


async def hold_calls(
    sessions: async_sessionmaker[AsyncSession],
    request: HoldRequest,
    uniqueids: Collection[str],
    *,
    now: datetime,
) -> Hold:
    """Place a hold on the calls with these Asterisk ``uniqueid``s.

    Raises ``InputError`` for an empty selection, a missing case reference or reason, an end
    date not after ``now``, or an already deleted call; ``NotFoundError`` naming unknown
    calls. Nothing is stored unless every call can be held.
    """
    _check_request(request, now)
    wanted = sorted({uniqueid.strip() for uniqueid in uniqueids if uniqueid.strip()})
    if not wanted:
        raise InputError("A hold needs at least one call (its uniqueid).")
    async with _session(sessions, write=True) as session:
        found: dict[str, tuple[int, datetime | None]] = {}
        for chunk in _chunks(wanted):
            rows = await session.execute(
                select(Call.uniqueid, Call.id, Call.purged_at)
                .where(Call.uniqueid.in_(chunk))
                .with_for_update()
            )
            found.update({uniqueid: (call_id, purged) for uniqueid, call_id, purged in rows})
        missing = [uniqueid for uniqueid in wanted if uniqueid not in found]
        if missing:
            raise NotFoundError(f"No stored call has the uniqueid {_names(missing)}.")
        purged = [uniqueid for uniqueid in wanted if found[uniqueid][1] is not None]
        if purged:
            raise InputError(
                f"The recording of call {_names(purged)} was already deleted; "
                "there is nothing left to hold."
            )
        hold_id = await _store(session, request, now, [found[u][0] for u in wanted])
        await _audit_placed(session, request, hold_id, now, {"calls": wanted})
        return await _one_hold(session, hold_id, now)


async def hold_number(
    sessions: async_sessionmaker[AsyncSession],
    request: HoldRequest,
    number: str,
    *,
    period_from: datetime,
    period_to: datetime,
    region: str,
    now: datetime,
) -> Hold:
    """Place a hold on every stored, not yet deleted call from ``number`` in the period.

    ``number`` is read as a person typed it (``NumberError`` if it is not a phone number;
    national numbers in ``region``). ``NotFoundError`` if no call matches.
    """
    _check_request(request, now)
    e164 = parse_e164(number, region)
    _check_aware("The period's start", period_from)
    _check_aware("The period's end", period_to)
    if period_from >= period_to:
        raise InputError(
            f"The period's start {period_from.isoformat()} is not before its end "
            f"{period_to.isoformat()}."
        )
    async with _session(sessions, write=True) as session:
        call_ids = list(
            await session.scalars(
                select(Call.id)
                .where(
                    Call.caller_e164 == e164,
                    Call.started_at >= period_from,
                    Call.started_at < period_to,
                    Call.purged_at.is_(None),
                )
                .order_by(Call.id)
                .with_for_update()
            )
        )
        if not call_ids:
            raise NotFoundError(
                f"No stored call from {e164} started between {period_from.isoformat()} and "
                f"{period_to.isoformat()}; no hold was placed."
            )
        hold_id = await _store(
            session,
            request,
            now,
            call_ids,
            number_e164=e164,
            period_from=period_from,
            period_to=period_to,
        )
        await _audit_placed(
            session,
            request,
            hold_id,
            now,
            {
                "number": mask_number(e164),
                "from": period_from.isoformat(),
                "to": period_to.isoformat(),
                "calls": len(call_ids),
            },
        )
        return await _one_hold(session, hold_id, now)


async def release_hold(
    sessions: async_sessionmaker[AsyncSession],
    hold_id: int,
    *,
    released_by: str,
    reason: str,
    now: datetime,
    recordings_dir: Path,
    retention: Mapping[str, RetentionPolicy],
    batch_size: int = 500,
    offsite: Offsite | None = None,
) -> Released:
    """Release a hold, then purge at once those of its calls that are now due.

    ``NotFoundError`` for an unknown hold, ``InputError`` for one already released or a
    missing reason. The release is committed before the purge: if the purge fails, the calls
    are deleted by the next purge run.
    """
    _check_text("The release reason", reason)
    _check_text("The releasing person", released_by, limit=_SHORT_TEXT)
    async with _session(sessions, write=True) as session:
        hold = await session.get(LegalHold, hold_id, with_for_update=True)
        if hold is None:
            raise NotFoundError(f"Hold {hold_id} does not exist.")
        if hold.released_at is not None:
            raise InputError(
                f"Hold {hold_id} was already released on {hold.released_at.isoformat()} "
                f"by {hold.released_by}."
            )
        hold.released_at = now
        hold.released_by = released_by.strip()
        hold.release_reason = reason.strip()
        await session.flush()
        call_ids = list(
            await session.scalars(
                select(LegalHoldCall.call_id).where(LegalHoldCall.hold_id == hold_id)
            )
        )
        released = await _one_hold(session, hold_id, now)
        await trail.append(
            session,
            at=now,
            actor=released_by.strip(),
            action="hold.release",
            target=f"hold:{hold_id}",
            detail={"case": hold.case_reference, "reason": reason.strip()},
        )
    still_held = 0
    async with _session(sessions) as session:
        for chunk in scopes(call_ids, 500):
            still_held += len(await held_call_ids(session, chunk or [], now))
    purged = await run_purge(
        sessions,
        recordings_dir=recordings_dir,
        retention=retention,
        now=now,
        batch_size=batch_size,
        only_call_ids=call_ids,
        offsite=offsite,
    )
    return Released(hold=released, still_held=still_held, purged=purged)


async def list_holds(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, include_inactive: bool = False
) -> list[Hold]:
    """The holds protecting calls at ``now``, or every hold ever placed; oldest first."""
    query = _hold_query(now)
    if not include_inactive:
        query = query.where(active_hold(now))
    async with _session(sessions) as session:
        rows = await session.execute(query.order_by(LegalHold.placed_at, LegalHold.id))
        return [_hold(hold, active, calls) for hold, active, calls in rows]


async def holds_of_call(
    sessions: async_sessionmaker[AsyncSession], uniqueid: str, *, now: datetime
) -> list[Hold]:
    """Every hold ever placed on one call (active or not); ``NotFoundError`` if unknown."""
    async with _session(sessions) as session:
        call_id = await session.scalar(select(Call.id).where(Call.uniqueid == uniqueid))
        if call_id is None:
            raise NotFoundError(f"No stored call has the uniqueid {uniqueid!r}.")
        query = _hold_query(now).where(
            LegalHold.id.in_(select(LegalHoldCall.hold_id).where(LegalHoldCall.call_id == call_id))
        )
        rows = await session.execute(query.order_by(LegalHold.placed_at, LegalHold.id))
        return [_hold(hold, active, calls) for hold, active, calls in rows]


async def _audit_placed(
    session: AsyncSession,
    request: HoldRequest,
    hold_id: int,
    now: datetime,
    covers: Mapping[str, object],
) -> None:
    await trail.append(
        session,
        at=now,
        actor=request.placed_by.strip(),
        action="hold.place",
        target=f"hold:{hold_id}",
        detail={
            "case": request.case_reference.strip(),
            "reason": request.reason.strip(),
            "ends_at": request.ends_at.isoformat() if request.ends_at else None,
            **covers,
        },
    )


@contextlib.asynccontextmanager
async def _session(
    sessions: async_sessionmaker[AsyncSession], *, write: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session (a write transaction with the write lock if ``write``); failures named."""
    try:
        async with sessions() as session:
            if write:
                async with session.begin():
                    await take_write_lock(session)
                    yield session
            else:
                yield session
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"The legal holds could not be read or stored: {describe_error(exc)}."
        ) from exc


async def _store(
    session: AsyncSession,
    request: HoldRequest,
    now: datetime,
    call_ids: Sequence[int],
    *,
    number_e164: str | None = None,
    period_from: datetime | None = None,
    period_to: datetime | None = None,
) -> int:
    hold = LegalHold(
        case_reference=request.case_reference.strip(),
        reason=request.reason.strip(),
        placed_by=request.placed_by.strip(),
        placed_at=now,
        ends_at=request.ends_at,
        number_e164=number_e164,
        period_from=period_from,
        period_to=period_to,
    )
    session.add(hold)
    await session.flush()
    await session.execute(
        insert(LegalHoldCall), [{"hold_id": hold.id, "call_id": call_id} for call_id in call_ids]
    )
    return hold.id


def _hold_query(now: datetime) -> Select[LegalHold, bool, int]:
    calls = (
        select(func.count())
        .where(LegalHoldCall.hold_id == LegalHold.id)
        .correlate(LegalHold)
        .scalar_subquery()
    )
    active: ColumnElement[bool] = active_hold(now)
    return select(LegalHold, active.label("active"), calls.label("calls"))


async def _one_hold(session: AsyncSession, hold_id: int, now: datetime) -> Hold:
    row = (await session.execute(_hold_query(now).where(LegalHold.id == hold_id))).one()
    return _hold(*row)


def _hold(hold: LegalHold, active: bool, calls: int) -> Hold:
    return Hold(
        id=hold.id,
        case_reference=hold.case_reference,
        reason=hold.reason,
        placed_by=hold.placed_by,
        placed_at=hold.placed_at,
        ends_at=hold.ends_at,
        number_e164=hold.number_e164,
        period_from=hold.period_from,
        period_to=hold.period_to,
        released_at=hold.released_at,
        released_by=hold.released_by,
        release_reason=hold.release_reason,
        calls=calls,
        active=bool(active),
    )


def _check_request(request: HoldRequest, now: datetime) -> None:
    _check_text("The case reference", request.case_reference, limit=_SHORT_TEXT)
    _check_text("The reason", request.reason)
    _check_text("The person placing the hold", request.placed_by, limit=_SHORT_TEXT)
    if request.ends_at is not None:
        _check_aware("The hold's end date", request.ends_at)
        if request.ends_at <= now:
            raise InputError(
                f"The hold's end date {request.ends_at.isoformat()} is not in the future."
            )


def _check_text(what: str, value: str, *, limit: int | None = None) -> None:
    if is_blank(value):  # zero-width or other invisible characters only say nothing
        raise InputError(f"{what} is empty.")
    if limit is not None and len(value.strip()) > limit:
        raise InputError(f"{what} is longer than {limit} characters.")


def _check_aware(what: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{what} {value.isoformat()} has no timezone.")


def _chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _names(uniqueids: Sequence[str]) -> str:
    named = ", ".join(repr(uniqueid) for uniqueid in uniqueids[:_NAMED])
    more = len(uniqueids) - _NAMED
    return f"{named} and {more} more" if more > 0 else named

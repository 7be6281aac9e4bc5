"""Searching calls for staff: filters, newest first, a page at a time, every search audited.

Pages are keyset pages on ``(started_at, id)``: the cursor names the last call shown, and the
next page is read from the index after it, so page 100 costs what page 1 does. Rows fit the
indexes ``ix_calls_started_at``, ``ix_calls_agent_started_at`` and, by number,
``ix_calls_caller_e164_started_at`` plus ``ix_calls_caller_number_started_at`` for rows stored
without a normalised number (two index ranges, merged, as ``rights.lookup`` does).

An agent's search is narrowed to their own calls in the SQL itself, so a page is never
filtered afterwards and never comes back short or reveals that other calls exist.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role, may_play, may_search_all, may_see
from callrec_ari.agent_legs import AgentLeg, agents
from callrec_ari.audit import trail
from callrec_ari.calls.agents import agents_on, call_facts, facts_with, took_part
from callrec_ari.dates import parse_optional
from callrec_ari.db.models import Call, LegalHold, LegalHoldCall
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.evidence.facts import evidence_from_json, languages_heard
from callrec_ari.ids import fits
from callrec_ari.lifecycle.held import active_hold, held_call_ids, is_held
from callrec_ari.log import mask_number
from callrec_ari.names import NODE
from callrec_ari.numbers import parse_e164
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.rights.subject import by_caller_e164, by_caller_spelling

MAX_PAGE = 500
_AGENT_LIMIT = 128  # the calls.agent column
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAD_CURSOR = "The page cursor is invalid."
_MAX_CURSOR = 64  # characters; a real one is about 30


@dataclass(frozen=True, kw_only=True)
class SearchFilters:
    """What to look for; every field set narrows the search (None: any)."""

    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    number: str | None = None  # any format a person types
    agent: str | None = None
    consent: Consent | None = None
    held: bool | None = None  # under an active legal hold now
    node: str | None = None  # recorded on this PBX node ([service] node)


@dataclass(frozen=True, kw_only=True)
class CallView:
    """One call as the staff web app shows it to one person."""

    uniqueid: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    caller: str | None
    dialled_number: str
    agent: str | None
    languages: tuple[str, ...]  # the announcement's languages, in the order played
    consent: Consent
    recording_status: RecordingStatus
    duration_seconds: float | None
    retention_policy: str
    delete_after: datetime | None  # when the purge takes it, unless a hold keeps it
    held: bool
    restricted: bool
    playable: bool  # this person may play it and a complete recording is kept
    # The languages heard to the end (evidence/facts.py); None on rows from before evidence.
    languages_played: tuple[str, ...] | None = None
    withdrawn_at: datetime | None = None  # the caller withdrew consent mid-call (then deleted)
    node: str | None = None  # the PBX node that recorded it; None on rows from before nodes
    interrupted_by: str | None = None  # "pbx": cut by an Asterisk crash, repaired (issue 15)
    # Every agent on the call, joined to left (issue 16); filled for one call's view only.
    agent_legs: tuple[AgentLeg, ...] = ()

    @classmethod
    def of(
        cls, call: Call, *, actor: Actor, held: bool, agents: frozenset[str] = frozenset()
    ) -> CallView:
        """The view of a stored row for ``actor``; ``agents``: those of its legs."""
        status = RecordingStatus(call.recording_status)
        return cls(
            uniqueid=call.uniqueid,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            caller=call.caller_e164 or call.caller_number,
            dialled_number=call.dialled_number,
            agent=call.agent,
            languages=tuple(filter(None, call.languages.split(","))),
            consent=Consent(call.consent),
            recording_status=status,
            duration_seconds=call.duration_seconds,
            retention_policy=call.retention_policy,
            delete_after=call.delete_after,
            held=held,
            restricted=call.restricted_at is not None,
            playable=may_play(actor, facts_with(call, agents))
            and status is RecordingStatus.COMPLETE
            and call.purged_at is None,
            languages_played=_played(call.evidence),
            withdrawn_at=call.withdrawn_at,
            node=call.node,
            interrupted_by=call.interrupted_by,
        )


def _played(evidence: str | None) -> tuple[str, ...] | None:
    if not evidence:
        return None
    return languages_heard(evidence_from_json(json.loads(evidence)))


@dataclass(frozen=True, kw_only=True)
class Page:
    """One page of calls, and the cursor of the next (None: this was the last)."""

    calls: list[CallView]
    next_cursor: str | None


def parse_filters(raw: Mapping[str, str], *, region: str) -> SearchFilters:
    """Filters from query-string values; blank values are ignored, other keys too.

    ``since`` and ``until`` are dates or times read by ``callrec_ari.dates`` (a bare
    ``until`` date includes that day); ``held`` is ``yes`` or ``no``. ``InputError`` naming
    the field.
    """

    def value(key: str) -> str | None:
        text = raw.get(key, "").strip()
        return text or None

    since, until = value("since"), value("until")
    number, agent = value("number"), value("agent")
    consent, held, node = value("consent"), value("held"), value("node")
    filters = SearchFilters(
        since=parse_optional(since, field="since"),
        until=parse_optional(until, field="until", end_of_day=True),
        number=parse_e164(number, region) if number else None,
        agent=agent,
        consent=_consent(consent) if consent else None,
        held=_yes_no(held) if held else None,
        node=node,
    )
    _check(filters)
    return filters


async def search_calls(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: SearchFilters,
    region: str,
    page_size: int,
    cursor: str | None,
    now: datetime,
    client: str | None,
) -> Page:
    """One page of the calls ``actor`` may see that match ``filters``, newest first.

    ``cursor`` is a page's ``next_cursor`` (None: the first page); ``InputError`` for a
    cursor this service did not give out, bad filters or page size; ``ForbiddenError`` for
    someone whose roles see no calls at all. The search is added to the audit trail in the
    caller's transaction.
    """
    scope = _scope(actor)
    _check(filters)
    if not 1 <= page_size <= MAX_PAGE:
        raise InputError(f"The page size {page_size} is out of range (1 to {MAX_PAGE}).")
    after = _decode(cursor) if cursor else None  # a blank ?cursor= is the first page
    e164 = parse_e164(filters.number, region) if filters.number else None
    common = [scope, *_conditions(filters, now)]
    if after is not None:
        common.append(_after(*after))
    # Two index ranges for a number (normalised rows, then old spellings); else one.
    branches = (
        [by_caller_e164(e164), by_caller_spelling(e164, region)] if e164 is not None else [true()]
    )
    rows: list[Call] = []
    for branch in branches:
        query = (
            select(Call)
            .where(branch, *common)
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(page_size + 1)
        )
        rows.extend(await session.scalars(query))
    rows.sort(key=lambda call: (call.started_at, call.id), reverse=True)
    shown, more = rows[:page_size], len(rows) > page_size
    held = await held_call_ids(session, [call.id for call in shown], now)
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="search",
        detail={
            "filters": _described(filters, e164),
            "continued": after is not None,
            "results": len(shown),
        },
        client=client,
    )
    last = shown[-1] if shown and more else None
    # Only an agent's right to play depends on the legs; anyone else's needs no query.
    legs = {} if may_search_all(actor) else await agents_on(session, [c.uniqueid for c in shown])
    return Page(
        calls=[
            CallView.of(
                call,
                actor=actor,
                held=call.id in held,
                agents=legs.get(call.uniqueid, frozenset()),
            )
            for call in shown
        ],
        next_cursor=_encode(last.started_at, last.id) if last is not None else None,
    )


async def view_call_for(
    session: AsyncSession, *, actor: Actor, uniqueid: str, now: datetime | None = None
) -> CallView:
    """One call as ``actor`` may see it (the staff app's view: masked fields, holds, whether
    it plays); ``NotFoundError`` alike whether it does not exist or is not theirs to see.

    Compare ``rights.subject.require_call_row`` (the raw row, no access check, for the
    dpo's services) and ``db.repository.find_record`` (the stored snapshot or ``None``).
    ``now`` decides which legal holds are still active (default: the wall clock).
    """
    call = await visible_call(session, actor=actor, uniqueid=uniqueid)
    moment = now if now is not None else datetime.now(UTC)
    held = await held_call_ids(session, [call.id], moment)
    legs = (await agent_legs_of(session, [call.uniqueid])).get(call.uniqueid, ())
    view = CallView.of(call, actor=actor, held=call.id in held, agents=frozenset(agents(legs)))
    return replace(view, agent_legs=legs)


async def visible_call(session: AsyncSession, *, actor: Actor, uniqueid: str) -> Call:
    """The row of a call ``actor`` may see; ``NotFoundError`` otherwise.

    A call that exists but is not theirs gets the very same error as one that does not
    exist: the answer must not tell them which calls there are.
    """
    call = await session.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None or not may_see(actor, await call_facts(session, call)):
        raise NotFoundError(f"Call {uniqueid!r} does not exist.")
    return call


def _scope(actor: Actor) -> ColumnElement[bool]:
    """The calls ``actor`` may find at all, as a condition on ``Call``."""
    if may_search_all(actor):
        return true()
    if Role.AGENT in actor.roles:
        # An agent account without an extension has no calls of its own.
        return took_part(actor.extension) if actor.extension else false()
    raise ForbiddenError(f"{actor.described} may not search calls.")


def _conditions(filters: SearchFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.since is not None:
        conditions.append(Call.started_at >= filters.since)
    if filters.until is not None:
        conditions.append(Call.started_at < filters.until)
    if filters.agent is not None:
        conditions.append(took_part(filters.agent))
    if filters.consent is not None:
        conditions.append(Call.consent == filters.consent.value)
    if filters.node is not None:
        conditions.append(Call.node == filters.node)
    if filters.held:
        # Held calls are few: read them by id and sort them, rather than test every row of
        # the period with EXISTS (0.1 s per 200 000 rows on SQLite for a page of 60 held).
        conditions.append(Call.id.in_(_held_ids(now)))
    elif filters.held is not None:
        # Most calls are not held: walking the index and testing each row stops early.
        conditions.append(not_(is_held(now)))
    return conditions


def _held_ids(now: datetime) -> Select[int]:
    return (
        select(LegalHoldCall.call_id)
        .join(LegalHold, LegalHold.id == LegalHoldCall.hold_id)
        .where(active_hold(now))
    )


def _after(started_at: datetime, row_id: int) -> ColumnElement[bool]:
    """Rows after the cursor, newest first. The redundant ``<=`` gives both planners an
    index range that starts at the cursor instead of a scan from the newest row."""
    return and_(
        Call.started_at <= started_at,
        or_(Call.started_at < started_at, Call.id < row_id),
    )


def _encode(started_at: datetime, row_id: int) -> str:
    micros = (started_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{row_id}".encode()).decode("ascii").rstrip("=")


def _decode(text: str) -> tuple[datetime, int]:
    if not text or len(text) > _MAX_CURSOR:
        raise InputError(_BAD_CURSOR)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        micros, row_id = raw.decode("ascii").split(".")
        moment, number = _EPOCH + timedelta(microseconds=int(micros)), int(row_id)
    except (ValueError, OverflowError):  # binascii.Error and UnicodeDecodeError included
        raise InputError(_BAD_CURSOR) from None
    if not fits(number):  # the database driver would overflow on it
        raise InputError(_BAD_CURSOR)
    return moment, number


def _check(filters: SearchFilters) -> None:
    for name, moment in (("since", filters.since), ("until", filters.until)):
        if moment is not None and moment.utcoffset() is None:
            raise InputError(f"The {name} time {moment.isoformat()} has no timezone.")
    if filters.since and filters.until and filters.since >= filters.until:
        raise InputError(
            f"The since time {filters.since.isoformat()} is not before the until time "
            f"{filters.until.isoformat()}."
        )
    if filters.agent is not None and len(filters.agent) > _AGENT_LIMIT:
        raise InputError(f"The agent is longer than {_AGENT_LIMIT} characters.")
    if filters.node is not None and not NODE.fullmatch(filters.node):
        raise InputError(f"The node {filters.node[:32]!r} is not a node name.")


def _consent(text: str) -> Consent:
    try:
        return Consent(text.lower())
    except ValueError:
        known = ", ".join(consent.value for consent in Consent)
        raise InputError(f"The consent {text[:32]!r} is not one of {known}.") from None


def _yes_no(text: str) -> bool:
    answers = {"yes": True, "no": False}
    if text.lower() not in answers:
        raise InputError(f"The held filter {text[:32]!r} is neither yes nor no.")
    return answers[text.lower()]


def _described(filters: SearchFilters, e164: str | None) -> dict[str, Any]:
    """The filters for the audit trail: the number masked, so that the trail does not
    become a second index of who called."""
    described: dict[str, Any] = {
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
        "number": mask_number(e164) if e164 else None,
        "agent": filters.agent,
        "consent": filters.consent.value if filters.consent else None,
        "held": filters.held,
        "node": filters.node,
    }
    return {key: value for key, value in described.items() if value is not None}

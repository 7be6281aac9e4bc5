"""Data-subject requests tracked from receipt to answer: open, list, show, extend, close.

Each request has a deadline (``deadlines.py``); listing shows overdue requests first. Every
change writes a ``dsr_actions`` row, so ``show`` tells the whole story of a request.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.audit import trail
from callrec_ari.db.models import DsrAction, DsrRequest
from callrec_ari.errors import InputError
from callrec_ari.numbers import parse_e164
from callrec_ari.rights.audit import (
    RequestStatus,
    get_request,
    record_action,
    require_rights_role,
    require_text,
)
from callrec_ari.rights.deadlines import Deadlines, check_received, days_left, is_overdue

_MAX_REQUESTER = 256


class RequestKind(enum.StrEnum):
    """What the person asks for (GDPR Art. 15-21, seed 004)."""

    ACCESS = "access"  # Art. 15: a copy of the recordings and what is kept about them
    RECTIFICATION = "rectification"  # Art. 16
    ERASURE = "erasure"  # Art. 17
    WITHDRAWAL = "withdrawal"  # Art. 7(3): consent withdrawn; earlier recordings deleted
    RESTRICTION = "restriction"  # Art. 18
    PORTABILITY = "portability"  # Art. 20
    OBJECTION = "objection"  # Art. 21


@dataclass(frozen=True, kw_only=True)
class RequestView:
    """A request as staff see it, with its deadline worked out for ``now``."""

    id: int
    kind: str
    number: str
    requester: str
    received_on: datetime
    due_at: datetime
    extended_at: datetime | None
    extension_reason: str | None
    status: str
    created_by: str
    closed_at: datetime | None
    notes: str | None
    overdue: bool
    days_left: int | None  # None once closed

    @classmethod
    def of(cls, row: DsrRequest, now: datetime) -> RequestView:
        """The view of one stored request at ``now``."""
        open_ = row.status == RequestStatus.OPEN
        return cls(
            id=row.id,
            kind=row.kind,
            number=row.number_e164,
            requester=row.requester,
            received_on=row.received_on,
            due_at=row.due_at,
            extended_at=row.extended_at,
            extension_reason=row.extension_reason,
            status=row.status,
            created_by=row.created_by,
            closed_at=row.closed_at,
            notes=row.notes,
            overdue=is_overdue(row.due_at, now, open_=open_),
            days_left=days_left(row.due_at, now) if open_ else None,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values, times in ISO 8601."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in vars(self).items()}


@dataclass(frozen=True, kw_only=True)
class ActionView:
    """One thing done for a request."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
        }


@dataclass(frozen=True, kw_only=True)
class RequestDetail:
    """A request and everything done for it, oldest first."""

    request: RequestView
    actions: tuple[ActionView, ...]


def parse_kind(text: str) -> RequestKind:
    """The request kind a person typed; ``InputError`` listing the known kinds otherwise."""
    try:
        return RequestKind(text.strip().lower())
    except ValueError:
        known = ", ".join(kind.value for kind in RequestKind)
        raise InputError(f"Request kind {text!r} is unknown (use one of: {known}).") from None


async def open_request(
    session: AsyncSession,
    *,
    kind: str,
    number: str,
    requester: str,
    actor: Actor,
    now: datetime,
    region: str,
    deadlines: Deadlines,
    received: datetime | None = None,
) -> RequestView:
    """Record a new request; it is due ``deadlines.due_days`` after ``received`` (default now)."""
    require_rights_role(actor, "open data-subject requests")
    request_kind = parse_kind(kind)
    e164 = parse_e164(number, region)
    who = require_text(requester, "requester")
    if len(who) > _MAX_REQUESTER:
        raise InputError(f"The requester is longer than {_MAX_REQUESTER} characters.")
    received_on = check_received(received or now, now)
    row = DsrRequest(
        kind=request_kind.value,
        number_e164=e164,
        requester=who,
        received_on=received_on,
        due_at=deadlines.due(received_on),
        status=RequestStatus.OPEN.value,
        created_by=actor.name,
    )
    session.add(row)
    await session.flush()  # the id, for the action row
    await record_action(
        session,
        request_id=row.id,
        actor=actor,
        action="opened",
        now=now,
        detail={"kind": row.kind, "due_at": row.due_at.isoformat()},
    )
    return RequestView.of(row, now)


async def list_requests(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    include_closed: bool = False,
    client: str | None = None,
) -> list[RequestView]:
    """Open requests, overdue first, then by deadline; closed ones last if asked for.

    The register names people's numbers, so reading it is added to the audit trail in the
    caller's transaction.
    """
    require_rights_role(actor, "list data-subject requests")
    is_open = DsrRequest.status == RequestStatus.OPEN.value
    urgency = case((and_(is_open, DsrRequest.due_at < now), 0), (is_open, 1), else_=2)
    query = select(DsrRequest).order_by(urgency, DsrRequest.due_at, DsrRequest.id)
    if not include_closed:
        query = query.where(is_open)
    views = [RequestView.of(row, now) for row in await session.scalars(query)]
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="dsr.list",
        detail={"include_closed": include_closed, "results": len(views)},
        client=client,
    )
    return views


async def show_request(
    session: AsyncSession,
    request_id: int,
    *,
    actor: Actor,
    now: datetime,
    client: str | None = None,
) -> RequestDetail:
    """One request and its actions; ``NotFoundError`` if it does not exist.

    The reading is added to the audit trail in the caller's transaction.
    """
    require_rights_role(actor, "read data-subject requests")
    row = await get_request(session, request_id)
    actions = await session.scalars(
        select(DsrAction).where(DsrAction.request_id == request_id).order_by(DsrAction.id)
    )
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="dsr.read",
        target=f"request:{request_id}",
        client=client,
    )
    return RequestDetail(
        request=RequestView.of(row, now),
        actions=tuple(
            ActionView(at=a.at, actor=a.actor, action=a.action, detail=json.loads(a.detail))
            for a in actions
        ),
    )


async def extend_request(
    session: AsyncSession,
    request_id: int,
    *,
    reason: str,
    actor: Actor,
    now: datetime,
    deadlines: Deadlines,
) -> RequestView:
    """Extend the deadline once by ``deadlines.extension_days``, for a stated reason."""
    require_rights_role(actor, "extend data-subject requests")
    row = await get_request(session, request_id)
    why = require_text(reason, "reason for the extension")
    if row.status != RequestStatus.OPEN:
        raise InputError(f"Request {request_id} is closed ({row.status}) and cannot be extended.")
    if row.extended_at is not None:
        raise InputError(
            f"Request {request_id} was already extended on {row.extended_at.date().isoformat()}; "
            "a deadline is extended only once."
        )
    if is_overdue(row.due_at, now):
        raise InputError(
            f"Request {request_id} is overdue since {row.due_at.date().isoformat()}; an "
            "extension must be decided and told to the person before the deadline."
        )
    old_due = row.due_at
    row.due_at = deadlines.extended(old_due)
    row.extended_at = now
    row.extension_reason = why
    await record_action(
        session,
        request_id=row.id,
        actor=actor,
        action="extended",
        now=now,
        detail={"from": old_due.isoformat(), "to": row.due_at.isoformat(), "reason": why},
    )
    return RequestView.of(row, now)


async def close_request(
    session: AsyncSession,
    request_id: int,
    *,
    note: str,
    actor: Actor,
    now: datetime,
    rejected: bool = False,
) -> RequestView:
    """Close a request as done, or as rejected (the note then gives the reasons)."""
    require_rights_role(actor, "close data-subject requests")
    row = await get_request(session, request_id)
    text = require_text(note, "closing note")
    if row.status != RequestStatus.OPEN:
        raise InputError(f"Request {request_id} is already closed ({row.status}).")
    row.status = (RequestStatus.REJECTED if rejected else RequestStatus.DONE).value
    row.closed_at = now
    row.notes = text
    await record_action(
        session,
        request_id=row.id,
        actor=actor,
        action=row.status,
        now=now,
        detail={"note": text, "overdue": is_overdue(row.due_at, now)},
    )
    return RequestView.of(row, now)

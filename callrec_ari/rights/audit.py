"""The trail every rights operation leaves: who may act, which request it answers, what was done.

Every change made through this package writes one ``dsr_actions`` row, linked to the request
it answers, or with no request when staff act on their own initiative.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_handle_requests
from callrec_ari.audit import trail
from callrec_ari.db.models import DsrAction, DsrRequest
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.log import mask_number
from callrec_ari.reasons import require_reason


class RequestStatus(enum.StrEnum):
    """Where a data-subject request stands."""

    OPEN = "open"
    DONE = "done"
    REJECTED = "rejected"  # answered with the reasons for refusing (seed 002 §18)


def require_rights_role(actor: Actor, what: str) -> None:
    """``ForbiddenError`` unless ``actor`` may act on data-subject rights (``what`` names it)."""
    if not may_handle_requests(actor):
        raise ForbiddenError(
            f"{actor.described} may not {what}: only the data-protection officer may."
        )


def require_text(value: str | None, what: str) -> str:
    """``value`` stripped; ``InputError`` naming ``what`` if it is missing or blank."""
    return require_reason(value, what)


async def get_request(session: AsyncSession, request_id: int) -> DsrRequest:
    """The request with this id; ``NotFoundError`` if there is none."""
    request = await session.get(DsrRequest, request_id)
    if request is None:
        raise NotFoundError(f"Request {request_id} does not exist.")
    return request


async def linked_request(
    session: AsyncSession, request_id: int | None, *, number: str | None = None
) -> DsrRequest | None:
    """The open request an operation answers, checked before anything is changed.

    ``NotFoundError`` if it does not exist; ``InputError`` if it is closed or, when ``number``
    is given, about another number.
    """
    if request_id is None:
        return None
    request = await get_request(session, request_id)
    if request.status != RequestStatus.OPEN:
        raise InputError(f"Request {request_id} is closed ({request.status}); open a new one.")
    if number is not None and request.number_e164 != number:
        raise InputError(f"Request {request_id} is about {request.number_e164}, not {number}.")
    return request


async def record_action(
    session: AsyncSession,
    *,
    request_id: int | None,
    actor: Actor,
    action: str,
    now: datetime,
    detail: dict[str, Any],
) -> DsrAction:
    """Add one ``dsr_actions`` row and its audit-trail entry to the caller's transaction.

    The audit entry points at the ``dsr_actions`` row rather than copying it: the trail can
    never be edited, so it keeps only the number's last digits, not the person's number.
    """
    row = DsrAction(
        request_id=request_id,
        at=now,
        actor=actor.name,
        action=action,
        detail=json.dumps(detail, sort_keys=True, ensure_ascii=False),
    )
    session.add(row)
    await session.flush()
    number = detail.get("number")
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action=f"dsr.{action}",
        target=f"request:{request_id}" if request_id is not None else None,
        detail={
            "dsr_action": row.id,
            **({"number": mask_number(number)} if isinstance(number, str) else {}),
        },
    )
    return row

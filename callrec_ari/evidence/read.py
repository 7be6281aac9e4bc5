"""Reading one call's consent evidence: checked, audited, shared by the CLI and the web app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_read_evidence
from callrec_ari.audit import trail
from callrec_ari.db.repository import find_record
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.names import UNIQUEID
from callrec_ari.records import CallRecord


async def read_evidence(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    now: datetime,
    client: str | None = None,
    via: str = "web",
) -> CallRecord:
    """The stored call ``uniqueid`` with its evidence, read as ``actor`` (an ``evidence.read``
    entry in the caller's transaction).

    ``ForbiddenError`` unless ``actor`` is the dpo; ``InputError`` for text that is not an
    Asterisk uniqueid; ``NotFoundError`` for a call that was never stored.
    """
    if not may_read_evidence(actor):
        raise ForbiddenError(f"{actor.described} may not read consent evidence.")
    if not UNIQUEID.fullmatch(uniqueid):
        raise InputError(
            f"Call id {uniqueid[:40]!r} is not an Asterisk uniqueid such as 1795514341.6."
        )
    record = await find_record(session, uniqueid)
    if record is None:
        raise NotFoundError(f"Call {uniqueid!r} does not exist.")
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="evidence.read",
        target=uniqueid,
        detail={"via": via, "facts": len(record.evidence)},
        client=client,
    )
    return record

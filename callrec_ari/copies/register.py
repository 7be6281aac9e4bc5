"""The copy register: one row per recording file that left callrec, and its audit entry.

Only two ways out exist (``access.py``): a release approved by a director who did not ask
for it, redeemed once by the asker, and a data-subject export answering an open access or
portability request. Each copy either way is written here with the file's SHA-256, in the
transaction of the action, so that erasing a number later can name every copy outside
(seed 001) and an auditor can match a file someone shows them to the row that let it out.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.db.models import Copy
from callrec_ari.errors import InputError
from callrec_ari.reasons import is_blank

MAX_CONSENT_TEXT = 256


class CopyKind(enum.StrEnum):
    """Which audio a copy holds."""

    MIX = "mix"  # both parties
    CALLER = "caller"  # the caller's own voice only (seed 004: no one else's consent needed)


@dataclass(frozen=True, kw_only=True)
class AgentConsent:
    """The agent's consent to a copy of the mix going to the caller, as the dpo states it.

    ``agent`` is the agent as calls store it (extension or endpoint): the consent covers that
    agent's calls only. ``given_on`` and ``how`` say when and how it was obtained.
    """

    agent: str
    given_on: str
    how: str

    @classmethod
    def stated(
        cls, agent: str | None, given_on: str | None, how: str | None
    ) -> AgentConsent | None:
        """The consent from three typed fields; ``None`` if all are blank, ``InputError``
        naming the missing one if only some are given."""
        values = {"agent": agent, "date the agent consented": given_on, "how": how}
        if all(is_blank(value) for value in values.values()):
            return None
        for what, value in values.items():
            if is_blank(value):
                raise InputError(f"The agent's consent needs {what} as well.")
            if len((value or "").strip()) > MAX_CONSENT_TEXT:
                raise InputError(f"The agent's consent: {what} is too long.")
        return cls(
            agent=(agent or "").strip(), given_on=(given_on or "").strip(), how=(how or "").strip()
        )

    def to_json(self) -> dict[str, str]:
        """JSON-ready values."""
        return {"agent": self.agent, "given_on": self.given_on, "how": self.how}


@dataclass(frozen=True, kw_only=True)
class CopyView:
    """One registered copy."""

    id: int
    uniqueid: str
    kind: str
    sha256: str
    recipient: str
    purpose: str
    release_id: int | None
    request_id: int | None
    consent: dict[str, str] | None
    made_at: datetime
    made_by: str

    @classmethod
    def of(cls, row: Copy) -> CopyView:
        """The view of a stored row."""
        return cls(
            id=row.id,
            uniqueid=row.uniqueid,
            kind=row.kind,
            sha256=row.sha256,
            recipient=row.recipient,
            purpose=row.purpose,
            release_id=row.release_id,
            request_id=row.request_id,
            consent=None if row.consent is None else json.loads(row.consent),
            made_at=row.made_at,
            made_by=row.made_by,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values, the time in ISO 8601."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in vars(self).items()}


@dataclass(frozen=True, kw_only=True)
class Made:
    """A copy about to be registered: what left, to whom and why."""

    call_id: int
    uniqueid: str
    kind: CopyKind
    sha256: str
    recipient: str
    purpose: str
    release_id: int | None = None
    request_id: int | None = None
    consent: AgentConsent | None = None


async def register(
    session: AsyncSession, made: Made, *, actor: str, now: datetime, client: str | None = None
) -> CopyView:
    """Add ``made`` to the register and its ``copy.out`` entry to the audit trail."""
    row = Copy(
        call_id=made.call_id,
        uniqueid=made.uniqueid,
        kind=made.kind.value,
        sha256=made.sha256,
        recipient=made.recipient[:256],
        purpose=made.purpose,
        release_id=made.release_id,
        request_id=made.request_id,
        consent=None
        if made.consent is None
        else json.dumps(made.consent.to_json(), sort_keys=True, ensure_ascii=False),
        made_at=now,
        made_by=actor,
    )
    session.add(row)
    await session.flush()
    await trail.append(
        session,
        at=now,
        actor=actor,
        action="copy.out",
        target=made.uniqueid,
        detail={
            "copy": row.id,
            "kind": made.kind.value,
            "sha256": made.sha256,
            "release": made.release_id,
            "request": made.request_id,
            "agent_consent": None if made.consent is None else made.consent.to_json(),
        },
        client=client,
    )
    return CopyView.of(row)


async def copies_of(session: AsyncSession, call_ids: Iterable[int]) -> tuple[CopyView, ...]:
    """Every registered copy of these calls' recordings, oldest first."""
    ids = list(call_ids)
    if not ids:
        return ()
    rows = await session.scalars(
        select(Copy).where(Copy.call_id.in_(ids)).order_by(Copy.made_at, Copy.id)
    )
    return tuple(CopyView.of(row) for row in rows)

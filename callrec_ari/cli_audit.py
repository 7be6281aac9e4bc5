"""The command line's reads of personal data, recorded in the audit trail as the web's are.

A command that prints calls, numbers, holds or staff accounts appends one entry in the
transaction of its read: who (the actor, and in the entry's client the operating-system user
and the ``sudo`` caller, from ``Operator.client``), what was asked, and how many rows it
showed. Numbers are kept with their last digits only, as the web's searches keep them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail


async def record_read(
    session: AsyncSession,
    *,
    actor: str,
    now: datetime,
    action: str,
    command: str,
    asked: Mapping[str, Any],
    results: int,
    target: str | None = None,
) -> None:
    """Append the read's entry: ``command`` as typed (``calls``), its options, the row count."""
    await trail.append(
        session,
        at=now,
        actor=actor,
        action=action,
        target=target,
        detail={"command": command, "asked": dict(asked), "results": results},
    )

"""Fixtures for releases: those of the calls tests, and one step of the release's life each."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Actor
from callrec_ari.calls.listen import Listening
from callrec_ari.releases.service import (
    ReleaseView,
    decide_release,
    redeem_release,
    request_release,
)
from tests.calls.conftest import CLIENT, SUPERVISOR, recordings, store
from tests.rights.conftest import DIRECTOR, NOW

__all__ = ["recordings", "store"]  # fixtures shared with the calls tests

RECIPIENT = "District Court Warsaw, case II C 123/26"
GROUND = "court order of 2026-11-20 (Art. 6(1)(c) GDPR)"
VALID_HOURS = 72


async def ask(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor = SUPERVISOR,
    uniqueid: str = "c1",
    *,
    recipient: str = RECIPIENT,
    legal_ground: str = GROUND,
    now: datetime = NOW,
) -> ReleaseView:
    """A release request, committed."""
    async with sessions() as session, session.begin():
        return await request_release(
            session,
            actor=actor,
            uniqueid=uniqueid,
            recipient=recipient,
            legal_ground=legal_ground,
            now=now,
            client=CLIENT,
        )


async def decide(
    sessions: async_sessionmaker[AsyncSession],
    release_id: int,
    actor: Actor = DIRECTOR,
    *,
    approve: bool = True,
    note: str | None = None,
    now: datetime = NOW,
) -> tuple[ReleaseView, str | None]:
    """A decision, committed."""
    async with sessions() as session, session.begin():
        return await decide_release(
            session,
            actor=actor,
            release_id=release_id,
            approve=approve,
            note=note,
            now=now,
            valid_hours=VALID_HOURS,
            client=CLIENT,
        )


async def redeem(
    sessions: async_sessionmaker[AsyncSession],
    release_id: int,
    token: str,
    recordings: Path,
    actor: Actor = SUPERVISOR,
    *,
    now: datetime = NOW,
) -> Listening:
    """A download, committed."""
    async with sessions() as session, session.begin():
        return await redeem_release(
            session,
            actor=actor,
            release_id=release_id,
            token=token,
            recordings_dir=recordings,
            now=now,
            client=CLIENT,
        )

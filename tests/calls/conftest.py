"""Fixtures for the staff's calls and releases: actors of every role, stored calls, the trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import (
    AuditEntry,
    AuditHead,
    Call,
    Copy,
    LegalHold,
    LegalHoldCall,
    Release,
)
from callrec_ari.db.repository import upsert_calls
from callrec_ari.records import CallRecord
from tests.rights.conftest import Store

AGENT = Actor.of("agent-piotr", Role.AGENT, extension="agent100")  # answers the calls of finished()
OTHER_AGENT = Actor.of("agent-ola", Role.AGENT, extension="agent200")
SUPERVISOR = Actor.of("super-jan", Role.SUPERVISOR)
OTHER_SUPERVISOR = Actor.of("super-iza", Role.SUPERVISOR)
ADMIN = Actor.of("admin-kim", Role.ADMIN)
OTHER_DIRECTOR = Actor.of("director-adam", Role.DIRECTOR)
CLIENT = "192.0.2.10"

_TABLES = (Call, LegalHold, LegalHoldCall, Release, Copy, AuditEntry, AuditHead)


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """The recordings folder as the service reads it."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


@pytest.fixture
def store(session_factory: async_sessionmaker[AsyncSession]) -> Store:
    """Store call snapshots as the service's writer does."""

    async def _store(*records: CallRecord) -> None:
        async with session_factory() as session, session.begin():
            await upsert_calls(session, list(records))

    return _store


async def audit(session_factory: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    """The audit trail, oldest entry first."""
    async with session_factory() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def set_call(
    session_factory: async_sessionmaker[AsyncSession], uniqueid: str, **values: Any
) -> None:
    """Change columns of a stored call directly (restriction, purge, a tampered path...)."""
    async with session_factory() as session, session.begin():
        await session.execute(update(Call).where(Call.uniqueid == uniqueid).values(**values))


async def snapshot(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Every row of the tables these services touch, to show that a refusal changed nothing."""
    state: dict[str, Any] = {}
    async with session_factory() as session:
        for model in _TABLES:
            rows = (await session.scalars(select(model))).all()
            state[model.__tablename__] = sorted(
                repr(sorted((k, v) for k, v in vars(row).items() if not k.startswith("_")))
                for row in rows
            )
    return state

"""Fixtures for the rights tests: a recordings folder, stored calls with real WAVs, a clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import (
    Call,
    CallCorrection,
    DoNotRecord,
    DsrAction,
    DsrRequest,
    LegalHold,
    LegalHoldCall,
)
from callrec_ari.db.repository import upsert_calls
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import caller_leg
from callrec_ari.records import CallRecord, RecordingStatus
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.requests import open_request
from tests.db.records import T0, finished, ringing
from tests.support.audio import write_wav
from tests.support.vault import master_key, vault  # noqa: F401 - encrypted recordings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the injected clock: a week after T0
REGION = "PL"
NUMBER = "+48221234567"
OTHER = "+48229876543"
DPO = Actor.of("dpo-anna", Role.DPO)
DIRECTOR = Actor.of("director-ewa", Role.DIRECTOR)
AGENT = Actor.of("agent-piotr", Role.AGENT, extension="agent100")

_TABLES = (Call, DsrRequest, DsrAction, DoNotRecord, CallCorrection, LegalHold, LegalHoldCall)


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """The recordings folder as the service reads it."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


def recorded(
    recordings: Path,
    uniqueid: str,
    *,
    number: str | None = "48221234567",
    e164: str | None = NUMBER,
    minutes: int = 0,
    seconds: float = 0.2,
    **changes: Any,
) -> CallRecord:
    """A finished call from ``number`` with a real WAV on disk and its true size and SHA-256."""
    record = finished(
        ringing(uniqueid, start=T0 + timedelta(minutes=minutes), caller_number=number)
    )
    record = dataclasses.replace(record, caller_e164=e164)
    assert record.recording_path is not None
    path = recordings / record.recording_path
    write_wav(path, seconds, sample=uniqueid.encode()[-2:].ljust(2, b"\x00"))
    facts = inspect_wav(path)
    return dataclasses.replace(
        record,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        duration_seconds=facts.duration_seconds,
        **changes,
    )


def unrecorded(uniqueid: str, *, minutes: int = 0, **changes: Any) -> CallRecord:
    """A finished call from NUMBER that has no recording (the caller declined)."""
    record = dataclasses.replace(
        finished(ringing(uniqueid, start=T0 + timedelta(minutes=minutes))),
        recording_path=None,
        recording_status=RecordingStatus.NONE,
        size_bytes=None,
        sha256=None,
        duration_seconds=None,
    )
    return dataclasses.replace(record, **changes)


Store = Callable[..., Awaitable[None]]


@pytest.fixture
def store(session_factory: async_sessionmaker[AsyncSession]) -> Store:
    """Store call snapshots as the service's writer does."""

    async def _store(*records: CallRecord) -> None:
        async with session_factory() as session, session.begin():
            await upsert_calls(session, list(records))

    return _store


async def call_row(session_factory: async_sessionmaker[AsyncSession], uniqueid: str) -> Call:
    """The stored row of one call."""
    async with session_factory() as session:
        return (await session.scalars(select(Call).where(Call.uniqueid == uniqueid))).one()


async def place_hold(
    session_factory: async_sessionmaker[AsyncSession],
    case: str,
    uniqueids: list[str],
    *,
    ends_at: datetime | None = None,
) -> None:
    """A legal hold on some calls, placed before NOW."""
    async with session_factory() as session, session.begin():
        hold = LegalHold(
            case_reference=case,
            reason="police asked",
            placed_by="dpo-anna",
            placed_at=NOW - timedelta(days=1),
            ends_at=ends_at,
        )
        session.add(hold)
        await session.flush()
        ids = await session.scalars(select(Call.id).where(Call.uniqueid.in_(uniqueids)))
        session.add_all(LegalHoldCall(hold_id=hold.id, call_id=call_id) for call_id in ids)


async def snapshot(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Every row of the tables rights operations touch: to compare before and after an
    operation that must change nothing."""
    state: dict[str, Any] = {}
    async with session_factory() as session:
        for model in _TABLES:
            rows = (await session.scalars(select(model))).all()
            state[model.__tablename__] = sorted(
                repr(sorted((k, v) for k, v in vars(row).items() if not k.startswith("_")))
                for row in rows
            )
    return state


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


async def open_export_request(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    number: str = NUMBER,
    kind: str = "access",
) -> int:
    """An open data-subject request of ``number`` (access unless ``kind`` says otherwise)."""
    async with session_factory() as session, session.begin():
        opened = await open_request(
            session,
            kind=kind,
            number=number,
            requester="the caller, by letter",
            actor=DPO,
            now=NOW,
            region=REGION,
            deadlines=Deadlines(),
        )
    return opened.id


def with_caller_leg(recordings: Path, record: CallRecord, *, seconds: float = 0.2) -> Path:
    """Write the caller's own leg beside ``record``'s mix, as MixMonitor does: silence with
    one distinct sample value, so the leg is told from the mix by its bytes; its path."""
    assert record.recording_path is not None
    path = recordings / caller_leg(record.recording_path)
    write_wav(path, seconds, sample=b"\x07\x00")
    return path

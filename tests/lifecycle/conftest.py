"""Calls with real recording files, stored in the migrated test databases."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.config import RetentionPolicy
from callrec_ari.db.models import Call
from callrec_ari.db.repository import upsert_calls
from callrec_ari.recording.paths import relative_path
from callrec_ari.records import CallRecord
from tests.db.records import T0, finished, ringing
from tests.support.audio import write_wav

POLICIES = {
    "days-7": RetentionPolicy(name="days-7", days=7),
    "months-6": RetentionPolicy(name="months-6", days=183),
}
# A month after T0: calls kept 7 days are due, calls kept 6 months are not.
NOW = T0 + timedelta(days=30)


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """An empty recordings folder."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


def recorded(
    uniqueid: str,
    recordings: Path | None,
    *,
    start: datetime = T0,
    policy: str = "days-7",
    **changes: object,
) -> CallRecord:
    """A finished, recorded call under ``policy``; its WAV and marker are written if asked."""
    path = relative_path(uniqueid, start)
    days = POLICIES[policy].days if policy in POLICIES else 0
    record = dataclasses.replace(
        finished(ringing(uniqueid, start=start)),
        recording_path=str(path),
        retention_policy=policy,
        delete_after=start + timedelta(days=days),
    )
    record = dataclasses.replace(record, **changes)
    if recordings is not None:
        write_wav(recordings / path, 0.01)
        (recordings / f"{path}.done").touch()
    return record


async def store(sessions: async_sessionmaker[AsyncSession], *records: CallRecord) -> dict[str, int]:
    """Store the calls; their row ids by uniqueid."""
    async with sessions() as session, session.begin():
        await upsert_calls(session, records)
    async with sessions() as session:
        rows = await session.execute(
            select(Call.uniqueid, Call.id).where(Call.uniqueid.in_([r.uniqueid for r in records]))
        )
        return dict(rows.all())


async def row(sessions: async_sessionmaker[AsyncSession], uniqueid: str) -> Call:
    """The stored row of one call."""
    async with sessions() as session:
        return (await session.scalars(select(Call).where(Call.uniqueid == uniqueid))).one()


async def set_columns(
    sessions: async_sessionmaker[AsyncSession], uniqueid: str, **values: object
) -> None:
    """Change columns the call snapshots never set (erasure requests, odd paths...)."""
    async with sessions() as session, session.begin():
        await session.execute(update(Call).where(Call.uniqueid == uniqueid).values(**values))


def file_of(recordings: Path, record: CallRecord) -> Path:
    """The call's WAV as the service sees it."""
    assert record.recording_path is not None
    return recordings / record.recording_path


def marker_of(recordings: Path, record: CallRecord) -> Path:
    """The call's ``.done`` marker beside its WAV."""
    wav = file_of(recordings, record)
    return wav.with_name(wav.name + ".done")

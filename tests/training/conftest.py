"""Fixtures for training copies: settings, calls whose two legs play two tones, the actors."""

from __future__ import annotations

import array
import dataclasses
import tomllib
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Actor, Role
from callrec_ari.config import Settings, parse
from callrec_ari.db.models import AuditEntry, TrainingCopy
from callrec_ari.db.repository import upsert_calls
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord
from callrec_ari.training import library
from callrec_ari.training.library import TrainingCopyView
from tests.db.records import T0, finished, ringing
from tests.support.audio import read_samples, write_tone_wav

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TRAINING_DID = "5552000"  # the example's Finnish line: its purposes include training
OTHER_DID = "5551000"  # the example's Polish line: service quality, evidence, complaints
CALLER_HZ = 440.0
AGENT_HZ = 1150.0
SUPERVISOR = Actor.of("super-jan", Role.SUPERVISOR)
TRAINER = Actor.of("trainer-eva", Role.TRAINER)
CLIENT = "192.0.2.10"


def training_settings(tmp_path: Path, **training: Any) -> Settings:
    """The example config with recordings and the training library under ``tmp_path``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "recordings")}
    data["training"] = {"months": 24, **training}
    return parse(data, {}, base_dir=tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The example's settings: recordings in ``tmp_path/recordings``, the library inside."""
    (tmp_path / "recordings").mkdir()
    return training_settings(tmp_path)


def toned(
    recordings: Path,
    uniqueid: str,
    *,
    seconds: float = 4.0,
    dialled: str = TRAINING_DID,
    legs: bool = True,
    **changes: Any,
) -> CallRecord:
    """A finished call to ``dialled`` whose caller leg is a CALLER_HZ tone and agent leg an
    AGENT_HZ tone of ``seconds`` (no legs: a call from before they were recorded), with the
    mix of both beside them and every size and hash on the row."""
    record = finished(ringing(uniqueid, start=T0, dialled_number=dialled, languages=("fi", "sv")))
    assert record.recording_path is not None
    mix = recordings / record.recording_path
    caller, agent = leg_files(mix)
    write_tone_wav(caller, CALLER_HZ, seconds)
    write_tone_wav(agent, AGENT_HZ, seconds)
    _mix(mix, caller, agent)
    facts = [inspect_wav(path) for path in (mix, caller, agent)]
    if not legs:
        caller.unlink()
        agent.unlink()
    return dataclasses.replace(
        record,
        size_bytes=facts[0].size_bytes,
        sha256=facts[0].sha256,
        duration_seconds=facts[0].duration_seconds,
        caller_leg_size_bytes=facts[1].size_bytes if legs else None,
        caller_leg_sha256=facts[1].sha256 if legs else None,
        agent_leg_size_bytes=facts[2].size_bytes if legs else None,
        agent_leg_sha256=facts[2].sha256 if legs else None,
        **changes,
    )


def _mix(mix: Path, caller: Path, agent: Path) -> None:
    both = array.array(
        "h", (a + b for a, b in zip(read_samples(caller), read_samples(agent), strict=True))
    )
    with wave.open(str(mix), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(both.tobytes())


async def store(sessions: async_sessionmaker[AsyncSession], *records: CallRecord) -> None:
    """Store call snapshots as the service's writer does."""
    async with sessions() as session, session.begin():
        await upsert_calls(session, list(records))


async def make(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    uniqueid: str,
    *,
    actor: Actor = SUPERVISOR,
    topic: str = "a rude caller handled calmly",
    spans: str = "",
    caller: str = "disguise",
    now: datetime = NOW,
) -> TrainingCopyView:
    """Make a training copy of ``uniqueid`` in one transaction."""
    async with sessions() as session, session.begin():
        return await library.make_copy(
            session,
            actor=actor,
            uniqueid=uniqueid,
            topic=topic,
            spans=spans,
            caller=caller,
            settings=settings,
            now=now,
            client=CLIENT,
        )


async def copy_rows(sessions: async_sessionmaker[AsyncSession]) -> list[TrainingCopy]:
    """Every row of the training library, deleted ones too."""
    async with sessions() as session:
        return list(await session.scalars(select(TrainingCopy).order_by(TrainingCopy.id)))


async def audit(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    """The audit trail, oldest entry first."""
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))

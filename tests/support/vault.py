"""Fixtures for tests of encrypted recordings: a master key, a sealer on the test's database,
and calls whose mix and two legs are real WAVs. Imported by the conftest of each folder that
uses them (crypto, recording, rights)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.db.repository import upsert_calls
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.records import CallRecord
from callrec_ari.storage.recordings import Offsite
from callrec_ari.storage.uploads import UploadQueue
from tests.db.records import T0, finished, ringing
from tests.support.audio import write_speech_like_wav, write_wav

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the rights tests' clock: a week after T0
NUMBER = "+48221234567"


@dataclasses.dataclass(frozen=True)
class Vault:
    """What an encryption test works with: the folder, the database, the keys, the sealer."""

    recordings: Path
    sessions: async_sessionmaker[AsyncSession]
    master_key: MasterKey
    keys: LocalMasterKeys
    sealer: Sealer
    store: Callable[..., Awaitable[None]]


@pytest.fixture
def master_key() -> MasterKey:
    """A random master key, as a key file would hold."""
    return MasterKey(secrets.token_bytes(32))


@pytest.fixture
def vault(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession], master_key: MasterKey
) -> Vault:
    """The recordings folder (``tmp_path/recordings``), a sealer on the test's database with
    the master key, and a way to store call snapshots as the service's writer does."""
    recordings = tmp_path / "recordings"
    recordings.mkdir(exist_ok=True)
    keys = LocalMasterKeys(master_key)
    sealer = Sealer(
        recordings_dir=recordings, keys=keys, sessions=session_factory, clock=lambda: NOW
    )

    async def store(*records: CallRecord) -> None:
        async with session_factory() as session, session.begin():
            await upsert_calls(session, list(records))

    return Vault(recordings, session_factory, master_key, keys, sealer, store)


def recorded_with_legs(
    recordings: Path,
    uniqueid: str,
    *,
    number: str = "48221234567",
    e164: str | None = NUMBER,
    **changes: Any,
) -> CallRecord:
    """A finished call from ``number`` with speech-like audio in its mix, a leg of each voice
    beside it, and their true sizes and SHA-256 on the row."""
    record = finished(ringing(uniqueid, start=T0 + timedelta(minutes=1), caller_number=number))
    assert record.recording_path is not None
    mix = recordings / record.recording_path
    write_speech_like_wav(mix, 1.5)
    caller, agent = leg_files(mix)
    write_wav(caller, 1.5, sample=b"\x07\x00")
    write_wav(agent, 1.5, sample=b"\x09\x01")
    facts, caller_facts, agent_facts = (inspect_wav(path) for path in (mix, caller, agent))
    return dataclasses.replace(
        record,
        caller_e164=e164,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        duration_seconds=facts.duration_seconds,
        caller_leg_size_bytes=caller_facts.size_bytes,
        caller_leg_sha256=caller_facts.sha256,
        agent_leg_size_bytes=agent_facts.size_bytes,
        agent_leg_sha256=agent_facts.sha256,
        **changes,
    )


def pending(record: CallRecord) -> Pending:
    """What the service hands the sealer when ``record``'s recording closes (no hashes)."""
    assert record.recording_path is not None
    return Pending(relative_path=record.recording_path, hashes={})


async def uploaded(vault: Vault, record: CallRecord, offsite: Offsite) -> None:
    """Seal ``record``'s recording and upload its files as the service does with an S3
    store, until the store has confirmed them and nothing of them is left on disk."""
    queue = UploadQueue(offsite.store, offsite.outbox, retry_min_seconds=0.05)
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        hand_over=queue.add_many,
    )
    assert await sealer.seal(pending(record))
    task = asyncio.create_task(queue.run())
    try:
        await asyncio.wait_for(queue.wait_idle(), 30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

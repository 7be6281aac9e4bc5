"""Fixtures for the encryption tests: master keys, a sealer on a real database, stored calls."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.records import CallRecord
from tests.rights.conftest import NOW, recorded, recordings, store  # noqa: F401 - fixtures
from tests.support.audio import write_speech_like_wav, write_wav


@pytest.fixture
def master_key() -> MasterKey:
    """A random master key, as a key file would hold."""
    return MasterKey(secrets.token_bytes(32))


@pytest.fixture
def keys(master_key: MasterKey) -> LocalMasterKeys:
    """The service's master keys: the one above, current."""
    return LocalMasterKeys(master_key)


@pytest.fixture
def sealer(
    recordings: Path,  # noqa: F811 - the fixture imported above
    keys: LocalMasterKeys,
    session_factory: async_sessionmaker[AsyncSession],
) -> Sealer:
    """A sealer on the recordings folder and the test's database, with a fixed clock."""
    return Sealer(recordings_dir=recordings, keys=keys, sessions=session_factory, clock=lambda: NOW)


@dataclasses.dataclass(frozen=True)
class Vault:
    """What an encryption test works with: the folder, the database, the keys, the sealer."""

    recordings: Path
    sessions: async_sessionmaker[AsyncSession]
    master_key: MasterKey
    keys: LocalMasterKeys
    sealer: Sealer
    store: Any


@pytest.fixture
def vault(
    recordings: Path,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    master_key: MasterKey,
    store: Any,  # noqa: F811
) -> Vault:
    """Everything above, in one: a sealer on the test's database with the master key."""
    keys = LocalMasterKeys(master_key)
    sealer = Sealer(
        recordings_dir=recordings, keys=keys, sessions=session_factory, clock=lambda: NOW
    )
    return Vault(recordings, session_factory, master_key, keys, sealer, store)


def recorded_with_legs(recordings: Path, uniqueid: str, **changes: object) -> CallRecord:  # noqa: F811
    """``recorded`` with speech-like audio in the mix and a leg of each voice beside it."""
    record = recorded(recordings, uniqueid, **changes)
    assert record.recording_path is not None
    mix = recordings / record.recording_path
    write_speech_like_wav(mix, 1.5)
    caller, agent = leg_files(mix)
    write_wav(caller, 1.5, sample=b"\x07\x00")
    write_wav(agent, 1.5, sample=b"\x09\x01")
    facts, caller_facts = inspect_wav(mix), inspect_wav(caller)
    return dataclasses.replace(
        record,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        duration_seconds=facts.duration_seconds,
        caller_leg_size_bytes=caller_facts.size_bytes,
        caller_leg_sha256=caller_facts.sha256,
    )


def pending(record: CallRecord) -> Pending:
    """What the service hands the sealer when ``record``'s recording closes (no hashes: the
    test's rows carry none of the legs)."""
    assert record.recording_path is not None
    return Pending(relative_path=record.recording_path, hashes={})

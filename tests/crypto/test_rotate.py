"""Master-key rotation: keys re-wrapped, audio untouched, a stopped run resumed."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import select

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.crypto.rotate import rotate
from callrec_ari.crypto.store import count_by_master_key, data_key
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import RecordingError
from callrec_ari.recording.audio import sha256_of, stored_audio
from tests.rights.conftest import NOW
from tests.support.vault import pending, recorded_with_legs


async def _sealed_calls(vault, count):
    records = [recorded_with_legs(vault.recordings, f"9.{n}") for n in range(count)]
    await vault.store(*records)
    for record in records:
        assert await vault.sealer.seal(pending(record))
    return records


def _files(folder):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.enc"))}


async def _plays(vault, keys, record):
    async with vault.sessions() as session:
        key = await data_key(session, keys, record.recording_path)
    audio = stored_audio(vault.recordings / record.recording_path, key)
    return audio is not None and sha256_of(audio) == record.sha256


async def test_a_stopped_rotation_leaves_everything_readable_and_a_rerun_finishes(vault):
    """Stopped after 2 of 5 (as a kill would stop it), every recording still plays with the
    old and new keys held; run again, all are under the new key and play with it alone."""
    records = await _sealed_calls(vault, 5)
    files_before = _files(vault.recordings)
    new = MasterKey(secrets.token_bytes(32))
    both = LocalMasterKeys(vault.master_key, (new,))

    first = await rotate(
        vault.sessions,
        keys=both,
        new_key=new,
        actor="anna",
        clock=lambda: NOW,
        batch_size=1,
        limit=2,
    )
    assert (first.rewrapped, first.left, first.complete) == (2, 3, False)
    async with vault.sessions() as session:
        assert await count_by_master_key(session) == {new.key_id: 2, vault.master_key.key_id: 3}
    during = LocalMasterKeys(new, (vault.master_key,))
    assert all([await _plays(vault, during, record) for record in records])

    second = await rotate(
        vault.sessions, keys=both, new_key=new, actor="anna", clock=lambda: NOW, batch_size=2
    )
    assert (second.rewrapped, second.left, second.complete) == (3, 0, True)
    only_new = LocalMasterKeys(new)
    assert all([await _plays(vault, only_new, record) for record in records])
    with pytest.raises(RecordingError, match="does not hold"):
        await _plays(vault, LocalMasterKeys(vault.master_key), records[0])
    assert _files(vault.recordings) == files_before  # not one byte of audio touched

    async with vault.sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("keys.%")).order_by(AuditEntry.seq)
            )
        )
    assert [e.action for e in entries] == [
        "keys.rotation_started",
        "keys.rotated",
        "keys.rotation_started",
        "keys.rotated",
    ]
    assert json.loads(entries[-1].detail)["complete"] is True
    assert json.loads(entries[0].detail)["rows_by_key"] == {vault.master_key.key_id: 5}


async def test_rows_under_a_key_not_held_are_left_and_named(vault):
    """A key row wrapped by a master key the configuration lacks is not touched, and counted."""
    await _sealed_calls(vault, 2)
    new = MasterKey(secrets.token_bytes(32))
    stranger = LocalMasterKeys(MasterKey(secrets.token_bytes(32)))
    result = await rotate(
        vault.sessions, keys=stranger, new_key=new, actor="anna", clock=lambda: NOW
    )
    assert result.rewrapped == 0
    assert result.unknown == {vault.master_key.key_id: 2}
    assert not result.complete

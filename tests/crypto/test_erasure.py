"""Crypto-erasure: a copy of the storage taken before an erasure cannot be decrypted after it."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from sqlalchemy import func, select

from callrec_ari.config import RetentionPolicy
from callrec_ari.crypto.format import open_encrypted
from callrec_ari.crypto.store import data_key
from callrec_ari.db.models import AuditEntry, RecordingKey
from callrec_ari.errors import RecordingError
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.recording.audio import StoredAudio, sealed_path, sha256_of, stored_audio
from callrec_ari.recording.legs import leg_files
from callrec_ari.rights.erasure import erase_number
from callrec_ari.storage.recordings import recording_keys
from tests.rights.conftest import DPO, NOW, NUMBER, OTHER, REGION
from tests.support.vault import pending, recorded_with_legs, uploaded


def _encrypted_files(folder):
    return sorted(p for p in folder.rglob("*.enc"))


async def _can_decrypt(session_factory, keys, backup, relative):
    """Everything the service has left (database, master keys) applied to the backup's file:
    the SHA-256 of what decrypts, or the error saying why nothing does."""
    async with session_factory() as session:
        key = await data_key(session, keys, relative)
    try:
        audio = stored_audio(backup / relative, key)
        assert audio is not None
        return sha256_of(audio)
    except RecordingError as exc:
        return str(exc)


async def test_an_erased_number_cannot_be_decrypted_from_a_copy_taken_before(vault, tmp_path):
    """Copy the recordings folder, erase the number: the copy decrypted before, not after."""
    mine = recorded_with_legs(vault.recordings, "1.1", e164=NUMBER)
    theirs = recorded_with_legs(vault.recordings, "1.2", e164=OTHER, number="48229876543")
    await vault.store(mine, theirs)
    plain_hash = hashlib.sha256((vault.recordings / mine.recording_path).read_bytes()).hexdigest()
    assert await vault.sealer.seal(pending(mine))
    assert await vault.sealer.seal(pending(theirs))
    assert not list(vault.recordings.rglob("*.wav"))  # no plaintext left, legs included
    backup = tmp_path / "backup"
    shutil.copytree(vault.recordings, backup)  # what a nightly backup of the storage holds

    before = await _can_decrypt(vault.sessions, vault.keys, backup, mine.recording_path)
    assert before == plain_hash == mine.sha256

    async with vault.sessions() as session, session.begin():
        result = await erase_number(
            session, vault.recordings, NUMBER, actor=DPO, now=NOW, region=REGION
        )
    assert result.erased == ("1.1",)

    after = await _can_decrypt(vault.sessions, vault.keys, backup, mine.recording_path)
    assert "encrypted and its key is gone" in after
    # The backup's files are still there, byte for byte: only the key went.
    mix_copy = sealed_path(backup / mine.recording_path)
    assert mix_copy.exists()
    # Neither the master key nor a guess opens them: the data key was random and is gone.
    for candidate in (vault.master_key.secret, bytes(32)):
        with pytest.raises(RecordingError), open_encrypted(mix_copy, candidate) as handle:
            handle.read(1)
    async with vault.sessions() as session:
        left = await session.scalars(select(RecordingKey.recording_path))
        assert list(left) == [theirs.recording_path]  # the other caller's key is untouched
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "keys.destroyed")
        )
    assert entry is not None
    assert json.loads(entry.detail) == {"reason": "erasure", "recordings": 1}
    # The other number still plays from the live folder and from the copy.
    assert await _can_decrypt(vault.sessions, vault.keys, backup, theirs.recording_path) == (
        theirs.sha256
    )


async def test_the_retention_purge_destroys_the_keys_of_what_it_deletes(vault, tmp_path):
    """A recording past its date goes with its key: its copy in a backup is unreadable."""
    record = recorded_with_legs(vault.recordings, "2.1", delete_after=NOW.replace(year=2025))
    await vault.store(record)
    assert await vault.sealer.seal(pending(record))
    backup = tmp_path / "backup"
    shutil.copytree(vault.recordings, backup)
    report = await run_purge(
        vault.sessions,
        recordings_dir=vault.recordings,
        retention={"months-6": RetentionPolicy(name="months-6", days=183)},
        now=NOW,
    )
    assert report.reduced == 1
    assert not _encrypted_files(vault.recordings)
    async with vault.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RecordingKey)) == 0
    result = await _can_decrypt(vault.sessions, vault.keys, backup, record.recording_path)
    assert "key is gone" in result


async def test_a_plain_recording_from_before_encryption_is_erased_as_before(vault):
    """A mixed folder: a plain WAV (and its legs) is deleted by erasure with no key to destroy."""
    record = recorded_with_legs(vault.recordings, "3.1")
    await vault.store(record)
    async with vault.sessions() as session, session.begin():
        await erase_number(session, vault.recordings, NUMBER, actor=DPO, now=NOW, region=REGION)
    mix = vault.recordings / record.recording_path
    assert not mix.exists()
    assert not any(leg.exists() for leg in leg_files(mix))
    assert StoredAudio(path=mix).encrypted is False


async def _bucket_copy(offsite, folder):
    """Every object of the store written to ``folder`` under its key: a backup of the bucket."""
    async for info in offsite.store.objects():
        target = folder / info.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(await (await offsite.store.read(info.key)).read_all())


async def test_erasure_deletes_the_stored_objects_and_a_bucket_copy_cannot_be_decrypted(
    vault, offsite, tmp_path
):
    """Sealed and uploaded, nothing left on disk; a copy of the bucket decrypts before the
    erasure and not after; the objects of the number go, the other caller's stay."""
    mine = recorded_with_legs(vault.recordings, "4.1", e164=NUMBER)
    theirs = recorded_with_legs(vault.recordings, "4.2", e164=OTHER, number="48229876543")
    await vault.store(mine, theirs)
    await uploaded(vault, mine, offsite)
    await uploaded(vault, theirs, offsite)
    assert [p for p in vault.recordings.rglob("*") if p.is_file()] == []
    backup = tmp_path / "bucket-copy"
    await _bucket_copy(offsite, backup)
    assert await _can_decrypt(vault.sessions, vault.keys, backup, mine.recording_path) == (
        mine.sha256
    )

    async with vault.sessions() as session, session.begin():
        result = await erase_number(
            session, vault.recordings, NUMBER, actor=DPO, now=NOW, region=REGION, offsite=offsite
        )
    assert (result.erased, result.files_deleted, result.files_missing) == (("4.1",), 1, 0)
    left = sorted([info.key async for info in offsite.store.objects()])
    assert left == recording_keys_sorted(theirs.recording_path)
    after = await _can_decrypt(vault.sessions, vault.keys, backup, mine.recording_path)
    assert "encrypted and its key is gone" in after


async def test_the_purge_deletes_the_stored_objects_with_their_key(vault, offsite):
    """A recording that only the store holds is purged there: objects and key gone, and the
    purge counts it deleted, not missing; a dry run before said it would."""
    record = recorded_with_legs(vault.recordings, "4.3", delete_after=NOW.replace(year=2025))
    await vault.store(record)
    await uploaded(vault, record, offsite)
    options = {
        "recordings_dir": vault.recordings,
        "retention": {"months-6": RetentionPolicy(name="months-6", days=183)},
        "now": NOW,
        "offsite": offsite,
    }
    preview = await run_purge(vault.sessions, dry_run=True, **options)
    assert (preview.files_deleted, preview.files_missing) == (1, 0)
    report = await run_purge(vault.sessions, **options)
    assert (report.reduced, report.files_deleted, report.files_missing) == (1, 1, 0)
    assert [info.key async for info in offsite.store.objects()] == []
    async with vault.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RecordingKey)) == 0


def recording_keys_sorted(relative):
    """The sorted keys of a recording's three sealed files."""
    return sorted(recording_keys(relative))

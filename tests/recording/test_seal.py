"""Sealing closed recordings: plain files replaced by encrypted ones only once the key is stored."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from callrec_ari.crypto.store import data_key
from callrec_ari.db.models import RecordingKey
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.errors import RecordingError
from callrec_ari.recording.audio import StoredAudio, sealed_path, sha256_of, stored_audio
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.storage import LocalStore
from callrec_ari.storage.uploads import UploadQueue
from tests.rights.conftest import NOW
from tests.support.vault import pending, recorded_with_legs


def _plain_left(folder):
    return sorted(p.name for p in folder.rglob("*.wav"))


def _parts_left(folder):
    return sorted(p.name for p in folder.rglob("*.part"))


async def test_sealing_replaces_the_mix_and_both_legs_and_keeps_their_hashes(vault):
    """Three .enc files, no plain WAV, each decrypting to the bytes measured at close."""
    record = recorded_with_legs(vault.recordings, "5.1")
    mix = vault.recordings / record.recording_path
    before = {path.name: path.read_bytes() for path in (mix, *leg_files(mix))}
    assert await vault.sealer.seal(pending(record))
    assert _plain_left(vault.recordings) == []
    async with vault.sessions() as session:
        key = await data_key(session, vault.keys, record.recording_path)
    for path in (mix, *leg_files(mix)):
        assert sealed_path(path).stat().st_mode & 0o777 == 0o600
        audio = stored_audio(path, key)
        with audio.open() as handle:
            assert handle.read() == before[path.name]
    assert vault.sealer.sealed == 1


async def test_with_the_database_down_the_plain_files_stay_and_a_later_sweep_seals_them(
    vault, tmp_path
):
    """No key stored means nothing deleted: plain WAVs stay, no part is left; once the
    database is back, the sweep of recent rows seals them."""
    record = recorded_with_legs(vault.recordings, "5.2")
    await vault.store(dataclasses.replace(record, ended_at=NOW - timedelta(minutes=5)))
    gone = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'no.db'}")
    down = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=create_session_factory(gone),
        clock=lambda: NOW,
    )
    with capture_logs() as logs:
        assert not await down.seal(pending(record))
    await gone.dispose()
    assert [entry["event"] for entry in logs] == ["seal.key_not_stored"]
    assert len(_plain_left(vault.recordings)) == 3
    assert _parts_left(vault.recordings) == []

    assert await vault.sealer.sweep() == 1
    assert _plain_left(vault.recordings) == []
    assert await vault.sealer.sweep() == 0  # nothing left to do
    async with vault.sessions() as session:
        key = await data_key(session, vault.keys, record.recording_path)
    assert sha256_of(stored_audio(vault.recordings / record.recording_path, key)) == record.sha256


async def test_a_crash_after_the_key_was_stored_is_finished_by_sealing_again(vault):
    """Plain files still beside a key row (killed before the rename) are sealed again with a
    new key; the row then opens the files on disk."""
    record = recorded_with_legs(vault.recordings, "5.3")
    await vault.store(dataclasses.replace(record, ended_at=NOW - timedelta(minutes=5)))
    mix = vault.recordings / record.recording_path
    wav = mix.read_bytes()
    assert await vault.sealer.seal(pending(record))
    mix.write_bytes(wav)  # as if the plain mix had not been deleted yet
    assert stored_audio(mix, None).path == mix  # readers take the plain file meanwhile
    assert await vault.sealer.sweep() == 1
    async with vault.sessions() as session:
        key = await data_key(session, vault.keys, record.recording_path)
        rows = await session.scalar(select(func.count()).select_from(RecordingKey))
    assert rows == 1
    assert sha256_of(stored_audio(mix, key)) == record.sha256
    assert not mix.exists()


async def test_a_file_changed_since_it_was_measured_is_logged_and_sealed_all_the_same(vault):
    """The hash measured at close is checked while sealing: a difference is an error line."""
    record = recorded_with_legs(vault.recordings, "5.4")
    hashes = {f"{record.uniqueid}.wav": "00" * 32}
    with capture_logs() as logs:
        assert await vault.sealer.seal(Pending(relative_path=record.recording_path, hashes=hashes))
    [differs] = [entry for entry in logs if entry["event"] == "seal.hash_differs"]
    assert differs["log_level"] == "error"
    assert differs["sealed"] == record.sha256


async def test_the_sweep_leaves_recordings_still_being_written(vault):
    """A row whose WAV is not closed yet (its header sizes still 0) is not sealed."""
    record = recorded_with_legs(vault.recordings, "5.5")
    await vault.store(dataclasses.replace(record, ended_at=NOW - timedelta(minutes=5)))
    mix = vault.recordings / record.recording_path
    data = bytearray(mix.read_bytes())
    data[4:8] = data[40:44] = b"\x00\x00\x00\x00"  # as Asterisk leaves it while recording
    mix.write_bytes(bytes(data))
    assert await vault.sealer.sweep() == 0
    assert mix.exists()


async def test_recordings_queued_together_are_sealed_in_one_go_each_under_its_own_key(vault):
    """Three recordings queued at once are sealed in one batch by the running task; each has a
    key of its own that opens only its files, and a queued one whose files are gone is
    skipped without holding back the others."""
    records = [recorded_with_legs(vault.recordings, f"6.{n}") for n in range(3)]
    gone = recorded_with_legs(vault.recordings, "6.9")
    for path in (
        vault.recordings / gone.recording_path,
        *leg_files(vault.recordings / gone.recording_path),
    ):
        path.unlink()
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        linger_seconds=0.2,
    )
    for record in (*records, gone):
        sealer.submit(pending(record))
    task = asyncio.create_task(sealer.run())
    try:
        for _ in range(100):
            if sealer.sealed == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert sealer.sealed == 3
    assert _plain_left(vault.recordings) == []
    async with vault.sessions() as session:
        keys = [await data_key(session, vault.keys, r.recording_path) for r in records]
        assert await data_key(session, vault.keys, gone.recording_path) is None
    assert len(set(keys)) == 3
    first = vault.recordings / records[0].recording_path
    assert stored_audio(first, keys[0]) is not None
    wrong = stored_audio(first, keys[1])  # another recording's key
    assert wrong is not None
    with pytest.raises(RecordingError), wrong.open() as handle:
        handle.read()


async def test_only_the_first_sweep_looks_at_recordings_that_have_a_key(vault):
    """Plain files beside a key (a crash before the rename) are found by the first sweep after
    a start; later sweeps look only at rows without a key, so they do not read every recent
    call's files each minute."""
    record = recorded_with_legs(vault.recordings, "5.4")
    await vault.store(dataclasses.replace(record, ended_at=NOW - timedelta(minutes=5)))
    mix = vault.recordings / record.recording_path
    wav = mix.read_bytes()
    assert await vault.sealer.sweep() == 1  # the first, full sweep seals it
    mix.write_bytes(wav)  # as if killed before the plain mix was deleted
    assert await vault.sealer.sweep() == 0  # a later sweep: the row has a key
    assert mix.exists()
    assert await vault.sealer.sweep(full=True) == 1  # as after the next start
    assert not mix.exists()


async def test_a_stop_seals_what_was_waiting_for_its_batch(vault):
    """Stopped while a recording waits for others to join its batch, the sealer seals it on
    drain: the last call of a shift is not left plain until the next start."""
    record = recorded_with_legs(vault.recordings, "5.5")
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        linger_seconds=30.0,
    )
    task = asyncio.create_task(sealer.run())
    sealer.submit(pending(record))
    await asyncio.sleep(0.2)  # taken from the queue, waiting 30 s for others
    assert sealer.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _plain_left(vault.recordings) != []  # still waiting when the task stopped
    assert await sealer.drain() == 1
    assert _plain_left(vault.recordings) == []
    assert sealer.waiting == 0


async def _stored_wav(store, key: str, data_key: bytes, tmp_path) -> bytes:
    """The plaintext of the object under ``key``: its ciphertext fetched and decrypted."""
    copy = tmp_path / f"fetched-{secrets.token_hex(4)}.enc"
    copy.write_bytes(await (await store.read(key)).read_all())
    with StoredAudio(path=copy, key=data_key).open() as handle:
        return handle.read()


async def test_with_object_storage_the_sealed_files_go_to_the_store_and_leave_the_folder(
    vault, s3_store, tmp_path
):
    """The mix and both legs, sealed, are moved into the outbox under <plain path>.enc, then
    uploaded; nothing of the recording is left on disk, and each object decrypts to its WAV."""
    record = recorded_with_legs(vault.recordings, "7.1")
    mix = vault.recordings / record.recording_path
    before = {path.name: path.read_bytes() for path in (mix, *leg_files(mix))}
    queue = UploadQueue(s3_store, tmp_path / "outbox", retry_min_seconds=0.05)
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        hand_over=queue.add_many,
    )
    assert await sealer.seal(pending(record))
    assert sorted(p.name for p in vault.recordings.rglob("*") if p.is_file()) == []
    keys = sorted(
        f"{record.recording_path.removesuffix('.wav')}{end}.wav.enc"
        for end in ("", ".caller", ".agent")
    )
    assert sorted(queue.path_for(key).name for key in keys) == sorted(
        p.name for p in (tmp_path / "outbox").iterdir()
    )
    task = asyncio.create_task(queue.run())
    try:
        await asyncio.wait_for(queue.wait_idle(), 20)
    finally:
        task.cancel()
    assert list((tmp_path / "outbox").iterdir()) == []
    assert sorted([info.key async for info in s3_store.objects()]) == keys
    async with vault.sessions() as session:
        key = await data_key(session, vault.keys, record.recording_path)
    assert key is not None
    for path in (mix, *leg_files(mix)):
        stored = await _stored_wav(
            s3_store, f"{record.recording_path[: -len(mix.name)]}{path.name}.enc", key, tmp_path
        )
        assert stored == before[path.name]


async def test_a_sealed_file_a_crash_left_in_the_folder_is_handed_over_by_the_first_sweep(
    vault, tmp_path
):
    """Killed between the rename and the hand-over, the sealed files stay in the recordings
    folder (readers find them there); the first sweep after the start hands them over."""
    record = recorded_with_legs(vault.recordings, "7.2")
    await vault.store(dataclasses.replace(record, ended_at=NOW - timedelta(minutes=5)))
    assert await vault.sealer.seal(pending(record))  # a sealer that hands over nothing
    assert len(list(vault.recordings.rglob("*.enc"))) == 3
    queue = UploadQueue(LocalStore(tmp_path / "store"), tmp_path / "outbox")
    restarted = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        hand_over=queue.add_many,
    )
    assert await restarted.sweep() == 0  # nothing to seal, but three files to hand over
    assert list(vault.recordings.rglob("*.enc")) == []
    assert len(list((tmp_path / "outbox").iterdir())) == 3


async def test_a_hand_over_that_fails_is_tried_again_at_the_next_sweep(vault, tmp_path):
    """An outbox that cannot be written leaves the sealed files where they are, logged; once
    it can, the next sweep (not only the first) hands them over."""
    record = recorded_with_legs(vault.recordings, "7.3")
    blocked = tmp_path / "outbox"
    blocked.write_text("not a folder")
    queue = UploadQueue(LocalStore(tmp_path / "store"), blocked)
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=vault.keys,
        sessions=vault.sessions,
        clock=lambda: NOW,
        hand_over=queue.add_many,
    )
    await sealer.sweep()  # the first, full sweep: nothing yet
    with capture_logs() as logs:
        assert await sealer.seal(pending(record))
    [failed] = [e for e in logs if e["event"] == "seal.hand_over_failed"]
    assert len(failed["keys"]) == 3  # the mix and both legs, one hand-over
    assert len(list(vault.recordings.rglob("*.enc"))) == 3
    blocked.unlink()
    await sealer.sweep()
    assert list(vault.recordings.rglob("*.enc")) == []
    assert len(list(blocked.iterdir())) == 3

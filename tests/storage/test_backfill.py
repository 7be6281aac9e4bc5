"""``callrec storage backfill``: recordings kept from before encryption or object storage was
turned on are sealed and uploaded, the recent ones left to the service, and a rerun finds
nothing more to do."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import json
import secrets
import tomllib
from datetime import timedelta
from pathlib import Path

import tomli_w
from sqlalchemy import select

from callrec_ari.__main__ import main
from callrec_ari.crypto.store import data_key
from callrec_ari.db.models import AuditEntry
from callrec_ari.recording.audio import sealed_path, stored_audio
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord
from callrec_ari.storage.backfill import backfill
from callrec_ari.storage.recordings import recording_keys
from callrec_ari.storage.s3 import S3Store
from callrec_ari.storage.uploads import UploadQueue
from tests.storage.conftest import BUCKET
from tests.storage.test_commands import s3_table
from tests.support.vault import NOW, Vault, recorded_with_legs

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
WINDOW = timedelta(hours=48)  # the service's own sweep covers calls ended since


def ended(vault: Vault, uniqueid: str, ago: timedelta) -> CallRecord:
    """A recorded call (mix and legs as plain WAVs) that ended ``ago`` before NOW."""
    record = recorded_with_legs(vault.recordings, uniqueid)
    return dataclasses.replace(record, ended_at=NOW - ago)


def local_files(vault: Vault, record: CallRecord) -> list[str]:
    assert record.recording_path is not None
    mix = vault.recordings / record.recording_path
    names = [path.name for path in (mix, *leg_files(mix)) if path.exists()]
    names += [
        sealed_path(path).name for path in (mix, *leg_files(mix)) if sealed_path(path).exists()
    ]
    return sorted(names)


async def run(vault: Vault, queue: UploadQueue | None):
    return await backfill(
        sessions=vault.sessions,
        recordings_dir=vault.recordings,
        keys=vault.keys,
        queue=queue,
        clock=lambda: NOW,
        before=NOW - WINDOW,
        upload_wait_seconds=30,
        actor="cli:ops",
    )


async def test_older_recordings_are_sealed_and_uploaded_and_recent_ones_left(
    vault: Vault, s3_store: S3Store, tmp_path
):
    """Two plain recordings of different weeks and one sealed before S3 was turned on end up
    in the bucket, nothing of them left here, each object decrypting to the audio whose
    SHA-256 the row holds; a call of the last 48 hours is the service's and stays plain; the
    run is in the audit trail, and a second run finds nothing to do."""
    old = ended(vault, "8.1", timedelta(days=10))
    older = ended(vault, "8.2", timedelta(days=30))
    sealed_here = ended(vault, "8.4", timedelta(days=20))
    recent = ended(vault, "8.3", timedelta(hours=1))
    await vault.store(old, older, sealed_here, recent)
    assert await vault.sealer.sweep(since=NOW - timedelta(days=21), until=NOW - timedelta(days=19))
    queue = UploadQueue(s3_store, tmp_path / "outbox", retry_min_seconds=0.05)

    result = await run(vault, queue)

    assert (result.sealed, result.handed_over, result.waiting) == (2, 9, 0)
    moved = (old, older, sealed_here)
    stored = sorted([info.key async for info in s3_store.objects()])
    assert stored == sorted(key for r in moved for key in recording_keys(str(r.recording_path)))
    assert [local_files(vault, record) for record in moved] == [[], [], []]
    assert local_files(vault, recent) == ["8.3.agent.wav", "8.3.caller.wav", "8.3.wav"]
    for record in moved:
        assert await _decrypted_sha256(vault, s3_store, record, tmp_path) == record.sha256
    async with vault.sessions() as session:
        [entry] = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "storage.backfilled")
            )
        ).all()
    assert entry.actor == "cli:ops"
    assert json.loads(entry.detail)["sealed"] == 2

    again = await run(vault, UploadQueue(s3_store, tmp_path / "outbox"))
    assert (again.sealed, again.handed_over, again.waiting) == (0, 0, 0)


async def test_without_object_storage_older_recordings_are_sealed_in_place(vault: Vault):
    """With the folder store, plain recordings become .enc files beside where they were."""
    old = ended(vault, "8.5", timedelta(days=3))
    await vault.store(old)
    result = await run(vault, None)
    assert (result.sealed, result.handed_over) == (1, 0)
    assert local_files(vault, old) == ["8.5.agent.wav.enc", "8.5.caller.wav.enc", "8.5.wav.enc"]


async def _decrypted_sha256(
    vault: Vault, store: S3Store, record: CallRecord, tmp_path: Path
) -> str:
    """The SHA-256 of the mix as decrypted from its object in the store."""
    assert record.recording_path is not None
    copy = tmp_path / "fetched" / Path(record.recording_path).name
    copy.parent.mkdir(exist_ok=True)
    [key] = [k for k in recording_keys(record.recording_path) if k.endswith(f"/{copy.name}.enc")]
    sealed_path(copy).write_bytes(await (await store.read(key)).read_all())
    async with vault.sessions() as session:
        audio = stored_audio(copy, await data_key(session, vault.keys, record.recording_path))
    assert audio is not None
    with audio.open() as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_with_encryption_off_the_command_says_there_is_nothing_to_bring_over(tmp_path, capsys):
    """Plain recordings in the folder are where the configuration wants them: one sentence."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"]["service_dir"] = str(tmp_path / "recordings")
    data["encryption"] = {"enabled": False}
    config = tmp_path / "callrec.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert main(["storage", "backfill", "-c", str(config)]) != 0
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err.count("\n") == 1
    assert "Nothing to bring over: [encryption] is off" in said.err


async def test_the_command_uploads_with_the_configured_store_and_says_what_it_did(
    vault: Vault, database_url, seaweed, tmp_path
):
    """``callrec storage backfill`` with the example config on S3: the old recording goes
    up (sealed with the configured master key), and it says so in two lines."""
    old = ended(vault, "8.6", timedelta(days=5))
    await vault.store(old)
    prefix = f"backfill-{secrets.token_hex(4)}/"
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = database_url
    data["recording"]["service_dir"] = str(vault.recordings)
    data["log"]["level"] = "warning"
    data["storage"] = {
        **s3_table(seaweed.endpoint_url, prefix=prefix),
        "outbox_dir": str(tmp_path / "outbox"),
    }
    config = tmp_path / "callrec.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert main(["keys", "new", "--out", str(tmp_path / "var" / "master.key")]) == 0
    out.truncate(0)

    def command() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(["storage", "backfill", "-c", str(config)], clock=lambda: NOW)

    assert await asyncio.to_thread(command) == 0, err.getvalue()
    assert out.getvalue().splitlines() == [
        "Sealed 1 recording(s) of calls that ended before 2026-11-29 12:00 UTC.",
        f"Handed 3 sealed file(s) to the bucket {BUCKET} at {seaweed.endpoint_url}.",
    ]
    listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(
        prefix + key for key in recording_keys(str(old.recording_path))
    )
    assert local_files(vault, old) == []

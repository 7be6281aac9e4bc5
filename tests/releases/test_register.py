"""A redeemed release is a copy that left: registered with the file's SHA-256, audited."""

from __future__ import annotations

import hashlib
import json
import secrets

from sqlalchemy import select

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.db.models import AuditEntry, Copy
from callrec_ari.recording.audio import sha256_of
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.releases.service import redeem_release
from tests.calls.conftest import SUPERVISOR
from tests.releases.conftest import GROUND, RECIPIENT, ask, decide, redeem
from tests.rights.conftest import NOW, recorded


async def test_the_download_is_registered_with_the_file_s_sha256(
    session_factory, store, recordings
):
    """One row: the mix, its SHA-256 as sent, the recipient, the legal ground, the release."""
    record = recorded(recordings, "c1")
    await store(record)
    asked = await ask(session_factory)
    _, token = await decide(session_factory, asked.id, note="court order checked")
    listening = await redeem(session_factory, asked.id, token, recordings)

    async with session_factory() as session:
        [row] = list(await session.scalars(select(Copy)))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "copy.out"))
    sent = hashlib.sha256(listening.path.read_bytes()).hexdigest()
    assert (row.uniqueid, row.kind, row.sha256) == ("c1", "mix", sent)
    assert sent == record.sha256
    assert (row.recipient, row.purpose, row.release_id, row.request_id) == (
        RECIPIENT,
        GROUND,
        asked.id,
        None,
    )
    assert (row.made_by, row.made_at) == ("super-jan", NOW)
    assert json.loads(entry.detail)["copy"] == row.id


async def test_a_refused_or_unused_release_registers_no_copy(session_factory, store, recordings):
    """Asking and refusing let nothing out: the register stays empty."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    await decide(session_factory, asked.id, approve=False, note="no legal ground")
    async with session_factory() as session:
        assert list(await session.scalars(select(Copy))) == []


async def test_an_encrypted_recording_is_registered_with_its_plain_audio_s_sha256(
    session_factory, store, recordings
):
    """The copy register holds the SHA-256 of the WAV sent (the row's), not of the file on
    disk, which is sealed."""
    keys = LocalMasterKeys(MasterKey(secrets.token_bytes(32)))
    record = recorded(recordings, "c1")
    await store(record)
    sealer = Sealer(
        recordings_dir=recordings, keys=keys, sessions=session_factory, clock=lambda: NOW
    )
    assert await sealer.seal(Pending(relative_path=record.recording_path, hashes={}))
    asked = await ask(session_factory)
    _, token = await decide(session_factory, asked.id, note="court order checked")
    async with session_factory() as session, session.begin():
        listening = await redeem_release(
            session,
            actor=SUPERVISOR,
            release_id=asked.id,
            token=token,
            recordings_dir=recordings,
            now=NOW,
            client=None,
            keys=keys,
        )
    assert listening.audio.encrypted
    assert sha256_of(listening.audio) == record.sha256
    async with session_factory() as session:
        [row] = list(await session.scalars(select(Copy)))
    assert row.sha256 == record.sha256

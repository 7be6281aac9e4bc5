"""The access package from encrypted recordings: decrypted copies, checked against the rows."""

from __future__ import annotations

import hashlib

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.legs import leg_files
from callrec_ari.rights.export import export_number
from tests.rights.conftest import DPO, NOW, NUMBER, REGION, open_export_request
from tests.rights.test_export import CONSENT, checksums
from tests.support.vault import pending, recorded_with_legs, uploaded


async def export(vault, out, **more):
    """Export as the dpo answering a fresh access request, with the vault's keys."""
    request_id = await open_export_request(vault.sessions)
    async with vault.sessions() as session, session.begin():
        return await export_number(
            session,
            vault.recordings,
            NUMBER,
            out,
            actor=DPO,
            now=NOW,
            region=REGION,
            request_id=request_id,
            keys=vault.keys,
            **more,
        )


async def test_the_caller_leg_of_an_encrypted_recording_goes_out_decrypted(vault, tmp_path):
    """The package holds the caller's leg as a plain WAV whose SHA-256 is the row's."""
    record = recorded_with_legs(vault.recordings, "e1")
    mix = vault.recordings / record.recording_path
    caller_plain = leg_files(mix)[0].read_bytes()
    await vault.store(record)
    assert await vault.sealer.seal(pending(record))

    package = await export(vault, tmp_path / "package")

    assert package.problems == ()
    copy = tmp_path / "package" / "recordings" / "e1.caller.wav"
    assert copy.read_bytes() == caller_plain
    digest = hashlib.sha256(caller_plain).hexdigest()
    assert digest == record.caller_leg_sha256
    assert checksums(tmp_path / "package")["recordings/e1.caller.wav"] == digest


async def test_with_the_agents_consent_the_decrypted_mix_goes_out(vault, tmp_path):
    """The mix, decrypted, checked against the row's SHA-256 (the evidence is unchanged)."""
    record = recorded_with_legs(vault.recordings, "e2")
    await vault.store(record)
    assert await vault.sealer.seal(pending(record))

    package = await export(vault, tmp_path / "package", agent_consent=CONSENT)

    assert package.problems == ()
    copy = tmp_path / "package" / "recordings" / "e2.wav"
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == record.sha256


async def test_without_the_key_the_recording_is_reported_not_copied(vault, tmp_path):
    """A process without the master keys cannot read it: one sentence, no package."""
    record = recorded_with_legs(vault.recordings, "e3")
    await vault.store(record)
    assert await vault.sealer.seal(pending(record))
    request_id = await open_export_request(vault.sessions)
    with pytest.raises(RecordingError, match=r"is encrypted, and \[encryption\] is not"):
        async with vault.sessions() as session, session.begin():
            await export_number(
                session,
                vault.recordings,
                NUMBER,
                tmp_path / "package",
                actor=DPO,
                now=NOW,
                region=REGION,
                request_id=request_id,
            )
    assert not (tmp_path / "package").exists()


async def test_recordings_only_the_object_store_holds_go_out_decrypted(vault, offsite, tmp_path):
    """Sealed and uploaded, nothing on disk: the caller's leg (and, with consent, the mix) is
    fetched, decrypted into the package and checked against the row."""
    record = recorded_with_legs(vault.recordings, "e9")
    mix = vault.recordings / record.recording_path
    caller_plain = leg_files(mix)[0].read_bytes()
    await vault.store(record)
    await uploaded(vault, record, offsite)
    assert not [p for p in vault.recordings.rglob("*") if p.is_file()]

    package = await export(vault, tmp_path / "leg", offsite=offsite)
    assert package.problems == ()
    assert (tmp_path / "leg" / "recordings" / "e9.caller.wav").read_bytes() == caller_plain

    package = await export(vault, tmp_path / "mix", agent_consent=CONSENT, offsite=offsite)
    assert package.problems == ()
    copy = tmp_path / "mix" / "recordings" / "e9.wav"
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == record.sha256

"""Encryption at rest on the real Asterisk (issue 14 §1): a call's recording ends up sealed on
disk with no plain WAV left, and plays back byte-exact through the web app's Range endpoint."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.app import SEALER, SETTINGS
from callrec_ari.crypto.store import data_key
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.recording.audio import ENCRYPTED_SUFFIX, sha256_of, stored_audio
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript
from callrec_ari.web.app import build_web_app
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    add_supervisor,
    recordings_of,
    sandbox_settings,
    until,
)
from tests.support.passwords import CHEAP_TABLE
from tests.web.conftest import Person, sign_in
from tests.web.test_calls import listen

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def sealing_service(asterisk: AsteriskSandbox, tmp_path: Path):
    """The service on the sandbox with [encryption] on and a master key of its own."""
    settings = sandbox_settings(
        asterisk,
        tmp_path,
        encryption={"enabled": True, "key_file": str(tmp_path / "master.key")},
        passwords=CHEAP_TABLE,
    )
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    yield service
    await service.stop()


async def test_a_real_call_is_sealed_on_disk_and_plays_byte_exact_through_range_requests(
    sealing_service: Service, asterisk: AsteriskSandbox
):
    """After the call: only .enc files on disk (mix and both legs), each decrypting to the
    row's SHA-256; the web app serves the whole WAV and arbitrary ranges byte for byte."""
    service = sealing_service
    script = CallerScript(
        did=QUICK_DID, caller="48227100014", wait_ms=service.listen_ms(QUICK_DID), talk_ms=4000
    )
    result = await service.call(script)
    assert result.ok, result.errors
    [row] = await service.settled()
    assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
    sealer = service.app[SEALER]
    await until(lambda: sealer.sealed >= 1, within=15)

    files = recordings_of(asterisk, row.uniqueid)
    assert files, "no recording on disk"
    assert all(path.name.endswith(ENCRYPTED_SUFFIX) for path in files), files  # no plaintext
    assert len(files) == 3  # the mix and both legs
    mix = service.wav(row)
    assert not mix.exists()
    assert not any(leg.exists() for leg in leg_files(mix))

    engine = create_engine(service.settings.database.url)
    try:
        async with create_session_factory(engine)() as session:
            # As the service started with it: the key file it made at its start.
            keys = service.app[SETTINGS].encryption.master_keys
            key = await data_key(session, keys, str(row.recording_path))
    finally:
        await engine.dispose()
    await add_supervisor(service.settings.database.url)
    audio = stored_audio(mix, key)
    assert audio is not None
    assert audio.encrypted
    assert sha256_of(audio) == row.sha256  # the evidence is the plain audio's hash
    caller_leg, agent_leg = (stored_audio(leg, key) for leg in leg_files(mix))
    assert caller_leg is not None
    assert sha256_of(caller_leg) == row.caller_leg_sha256
    assert agent_leg is not None
    assert sha256_of(agent_leg) == row.agent_leg_sha256

    app = build_web_app(service.settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await sign_in(client, Person("sue", frozenset({Role.SUPERVISOR}), None, None), clock=None)
        assert (await listen(client, row.uniqueid)).status == 303
        url = f"/calls/{row.uniqueid}/audio"
        whole = await (await client.get(url)).read()
        assert hashlib.sha256(whole).hexdigest() == row.sha256
        size = len(whole)
        for start, end in [(0, 43), (44, 65_579), (65_530, 65_600), (size // 3, size - 1)]:
            part = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
            assert part.status == 206
            assert await part.read() == whole[start : end + 1]

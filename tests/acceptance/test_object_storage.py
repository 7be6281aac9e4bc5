"""Object storage on the real Asterisk (issue 14 §2): a call's recording is sealed, uploaded
to the S3 store (SeaweedFS) with nothing left on disk, and plays from the store through the
web app, byte-exact in any range."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.app import SEALER, UPLOADS
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript
from callrec_ari.storage.recordings import recording_keys
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
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, TEST_BUCKET, SeaweedServer
from tests.web.conftest import Person, sign_in
from tests.web.test_calls import listen

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def uploading_service(asterisk: AsteriskSandbox, seaweed: SeaweedServer, tmp_path: Path):
    """The service on the sandbox with [encryption] on and [storage] kind = "s3"."""
    settings = sandbox_settings(
        asterisk,
        tmp_path,
        encryption={"enabled": True, "key_file": str(tmp_path / "master.key")},
        storage={
            "kind": "s3",
            "location": "PL",
            "bucket": TEST_BUCKET,
            "prefix": f"acceptance-{secrets.token_hex(4)}",
            "endpoint_url": seaweed.endpoint_url,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "outbox_dir": str(tmp_path / "outbox"),
            "retry_min_seconds": 0.2,
        },
        passwords=CHEAP_TABLE,
    )
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    yield service
    await service.stop()


async def test_a_real_call_is_uploaded_and_plays_from_the_store(
    uploading_service: Service, asterisk: AsteriskSandbox
):
    """After the call: the mix and both legs are objects in the bucket, nothing of the call is
    left in the recordings folder or the outbox, and the web app (which opens the store
    itself) plays the whole WAV, whose SHA-256 is the row's, and ranges of it."""
    service = uploading_service
    script = CallerScript(
        did=QUICK_DID, caller="48227100015", wait_ms=service.listen_ms(QUICK_DID), talk_ms=4000
    )
    result = await service.call(script)
    assert result.ok, result.errors
    [row] = await service.settled()
    assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
    sealer, queue = service.app[SEALER], service.app[UPLOADS]
    await until(lambda: sealer.sealed >= 1, within=15)
    await asyncio.wait_for(queue.wait_idle(), 30)
    stored = sorted([info.key async for info in queue.store.objects()])
    assert stored == sorted(recording_keys(str(row.recording_path)))
    assert recordings_of(asterisk, row.uniqueid) == []  # no plain, no sealed file left
    assert list(queue.outbox.iterdir()) == []
    await add_supervisor(service.settings.database.url)

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
        drawing = await client.get(f"/calls/{row.uniqueid}/waveform.svg")
        assert drawing.status == 200


async def test_a_store_outage_never_blocks_a_call_and_uploads_resume(
    uploading_service: Service, asterisk: AsteriskSandbox, seaweed: SeaweedServer
):
    """With SeaweedFS stopped a call is answered, recorded and sealed as usual; its files wait
    in the outbox (three pending uploads) and reach the bucket once the store is back."""
    service = uploading_service
    queue = service.app[UPLOADS]
    await asyncio.wait_for(queue.wait_idle(), 30)
    seaweed.stop()
    try:
        script = CallerScript(
            did=QUICK_DID, caller="48227100016", wait_ms=service.listen_ms(QUICK_DID), talk_ms=2000
        )
        result = await service.call(script)
        assert result.ok, result.errors
        [row] = await service.settled()
        assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
        await until(lambda: service.app[SEALER].sealed >= 1, within=15)
        await until(lambda: len(queue.pending) == 3, within=15)
        assert len(list(queue.outbox.iterdir())) == 3
        assert recordings_of(asterisk, row.uniqueid) == []
    finally:
        seaweed.start()
    await asyncio.wait_for(queue.wait_idle(), 60)
    stored = sorted([info.key async for info in queue.store.objects()])
    assert stored == sorted(recording_keys(str(row.recording_path)))
    assert list(queue.outbox.iterdir()) == []

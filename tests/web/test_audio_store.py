"""Playing a recording that only the object store holds: the web app opens the store from
[storage] and streams ranges from it, byte-exact; the waveform is drawn from a fetched copy."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from callrec_ari.access import Role
from callrec_ari.config import Settings
from callrec_ari.config.encryption import with_master_key
from callrec_ari.config.storage import StorageKind, StorageSettings
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.storage.s3 import S3Store
from callrec_ari.storage.uploads import UploadQueue
from tests.support.audio import write_speech_like_wav
from tests.support.seaweedfs import TEST_BUCKET
from tests.web.conftest import START, sign_in, web_config
from tests.web.test_calls import listen


@pytest.fixture
def settings(tmp_path: Path, database_url: str, seaweed) -> Settings:
    """The web app's settings with ``[storage] kind = "s3"`` on the tests' SeaweedFS."""
    (tmp_path / "recordings").mkdir()
    base = web_config(tmp_path, database_url)
    storage = StorageSettings(
        kind=StorageKind.S3,
        location="PL",
        s3=seaweed.settings(TEST_BUCKET, prefix=f"web-{secrets.token_hex(4)}/"),
        outbox_dir=tmp_path / "outbox",
    )
    return replace(base, storage=storage)


@pytest.fixture
async def uploaded(settings, session_factory, calls, aio_session):
    """The first call's recording, speech-like and 9 s long (three chunks), sealed and
    uploaded as the service does; nothing of it left on disk. Its plain bytes."""
    mix = settings.recording.service_dir / str(calls[0].recording_path)
    write_speech_like_wav(mix, 9.0)
    wav = mix.read_bytes()
    assert settings.storage.s3 is not None
    async with S3Store(settings.storage.s3, session=aio_session) as store:
        queue = UploadQueue(store, settings.storage.outbox_dir, retry_min_seconds=0.05)
        sealer = Sealer(
            recordings_dir=settings.recording.service_dir,
            keys=with_master_key(settings.encryption).master_keys,
            sessions=session_factory,
            clock=lambda: START,
            hand_over=queue.add_many,
        )
        assert await sealer.seal(Pending(relative_path=str(calls[0].recording_path), hashes={}))
        task = asyncio.create_task(queue.run())
        try:
            await asyncio.wait_for(queue.wait_idle(), 30)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert not [p for p in mix.parent.iterdir() if p.name.startswith(calls[0].uniqueid)]
    assert list(settings.storage.outbox_dir.iterdir()) == []
    return wav


async def test_a_recording_in_the_store_only_plays_byte_exact_in_any_range(
    client, person, clock, calls, uploaded
):
    """The whole file, ranges at the chunk boundaries, the first and the last byte, a tail
    and an open end all match the WAV; a range past the end is 416."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    url = f"/calls/{uniqueid}/audio"
    whole = await client.get(url)
    assert whole.status == 200
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert await whole.read() == uploaded
    size = len(uploaded)
    for start, end in [(0, 0), (0, 43), (65_535, 65_536), (65_536, 131_071), (size - 1, size - 1)]:
        part = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert part.status == 206, (start, end)
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert await part.read() == uploaded[start : end + 1], (start, end)
    tail = await client.get(url, headers={"Range": "bytes=-100"})
    assert await tail.read() == uploaded[-100:]
    rest = await client.get(url, headers={"Range": "bytes=100000-"})
    assert await rest.read() == uploaded[100_000:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert (beyond.status, beyond.headers["Content-Range"]) == (416, f"bytes */{size}")


@pytest.mark.usefixtures("uploaded")
async def test_the_waveform_of_a_recording_in_the_store_is_drawn(client, person, clock, calls):
    """The waveform reads a fetched copy of the ciphertext."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    await listen(client, calls[0].uniqueid)
    drawing = await client.get(f"/calls/{calls[0].uniqueid}/waveform.svg")
    assert drawing.status == 200
    assert "<polygon" in await drawing.text()

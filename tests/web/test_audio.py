"""Playing an encrypted recording through the web app: Range requests, waveform, releases."""

from __future__ import annotations

import random

import pytest

from callrec_ari.access import Role
from callrec_ari.config.encryption import with_master_key
from callrec_ari.recording.audio import sealed_path
from callrec_ari.recording.seal import Pending, Sealer
from tests.support.audio import write_speech_like_wav
from tests.web.conftest import START, sign_in
from tests.web.test_calls import listen


@pytest.fixture
async def sealed(settings, session_factory, calls):
    """The first call's recording, speech-like and 9 s long, sealed as the service does;
    its plain bytes."""
    mix = settings.recording.service_dir / str(calls[0].recording_path)
    write_speech_like_wav(mix, 9.0)  # 144 KiB: three chunks
    wav = mix.read_bytes()
    sealer = Sealer(
        recordings_dir=settings.recording.service_dir,
        # The key the web app makes at its start (the same file, so the same key).
        keys=with_master_key(settings.encryption).master_keys,
        sessions=session_factory,
        clock=lambda: START,
    )
    assert await sealer.seal(Pending(relative_path=str(calls[0].recording_path), hashes={}))
    assert not mix.exists()
    assert sealed_path(mix).exists()
    return wav


async def test_an_encrypted_recording_plays_byte_exact_in_any_range(
    client, person, clock, calls, sealed
):
    """The whole file, and every range a player may ask for, match the plain WAV byte for byte."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    url = f"/calls/{uniqueid}/audio"
    whole = await client.get(url)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "audio/wav"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert await whole.read() == sealed
    size = len(sealed)
    rng = random.Random(14)  # noqa: S311 - reproducible ranges, not a secret
    asked = [(0, 0), (0, 43), (65_530, 65_545), (size - 1, size - 1), (131_000, size - 1)]
    asked += [tuple(sorted(rng.sample(range(size), 2))) for _ in range(25)]
    for start, end in asked:
        part = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert part.status == 206, (start, end)
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert await part.read() == sealed[start : end + 1], (start, end)
    tail = await client.get(url, headers={"Range": "bytes=-100"})
    assert await tail.read() == sealed[-100:]
    rest = await client.get(url, headers={"Range": "bytes=100000-"})
    assert await rest.read() == sealed[100_000:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


async def test_the_waveform_of_an_encrypted_recording_is_drawn(
    client, person, clock, calls, sealed
):
    """The waveform reads the encrypted file as it reads a plain one."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    drawing = await client.get(f"/calls/{uniqueid}/waveform.svg")
    assert drawing.status == 200
    assert "<polygon" in await drawing.text()


@pytest.mark.usefixtures("sealed")
async def test_a_plain_recording_beside_encrypted_ones_still_plays(
    client, person, clock, calls, settings
):
    """A mixed folder: the second call, recorded before encryption, plays as before."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    plain = calls[1]
    await listen(client, plain.uniqueid)
    wav = (settings.recording.service_dir / str(plain.recording_path)).read_bytes()
    response = await client.get(f"/calls/{plain.uniqueid}/audio")
    assert await response.read() == wav

"""Listening in the browser plays the mix, both voices, never a leg beside it."""

from __future__ import annotations

from callrec_ari.calls.listen import open_recording
from callrec_ari.recording.legs import leg_files
from tests.calls.conftest import CLIENT, SUPERVISOR
from tests.rights.conftest import NOW, recorded
from tests.support.audio import write_wav


async def test_a_call_with_legs_plays_its_mix(session_factory, store, recordings):
    """The file served is the row's mix, whatever legs lie beside it."""
    call = recorded(recordings, "c1")
    await store(call)
    assert call.recording_path is not None
    mix = recordings / call.recording_path
    for leg in leg_files(mix):
        write_wav(leg, 1.0, b"\x7f\x00")

    async with session_factory() as session, session.begin():
        listening = await open_recording(
            session,
            actor=SUPERVISOR,
            uniqueid="c1",
            reason="customer complained about the tone",
            category="complaint",
            recordings_dir=recordings,
            min_reason=10,
            now=NOW,
            client=CLIENT,
        )

    assert listening.path == mix
    assert listening.size_bytes == mix.stat().st_size
    assert listening.path not in leg_files(mix)

"""The legs' fingerprints reach the call's row when its recording settles."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from callrec_ari.ari import models as ari
from callrec_ari.config import Settings
from callrec_ari.recording.finalise import marker_for
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import RecordingStatus
from tests.flow.test_controller import CHANNEL, Harness, at, channel, finished, start
from tests.support.audio import write_wav


@pytest.fixture
def harness(settings: Settings) -> Harness:
    """The controller on the fake ARI, with the test settings."""
    return Harness(settings)


async def test_a_recorded_calls_row_holds_both_legs_fingerprints(harness: Harness):
    """After the call, the row has each leg's size and SHA-256 beside the mix's."""
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    peer = channel("1795514342.7", "PJSIP/agent100-00000007")
    await harness.feed(
        ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL),
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER"),
    )
    mix = harness.settings.recording.service_dir / "2026/11/24/1795514341.6.wav"
    caller, agent = leg_files(mix)
    write_wav(mix, 3.0, b"\x10\x00")
    write_wav(caller, 3.0, b"\x20\x00")
    write_wav(agent, 3.0, b"\x30\x00")
    await harness.feed(ari.ChannelDestroyed(timestamp=at(17), channel_id=CHANNEL, cause=16))
    marker_for(mix).touch()
    await asyncio.wait_for(harness.controller.wait_idle(), 2)

    row = harness.last()
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.caller_leg_sha256 == hashlib.sha256(caller.read_bytes()).hexdigest()
    assert row.agent_leg_sha256 == hashlib.sha256(agent.read_bytes()).hexdigest()
    assert (row.caller_leg_size_bytes, row.agent_leg_size_bytes) == (
        caller.stat().st_size,
        agent.stat().st_size,
    )
    assert row.recording_path == "2026/11/24/1795514341.6.wav"  # the row points at the mix

"""Asterisk dying mid-conversation: the calls it leaves are settled from their repaired files,
whether callrec reconnects to the restarted Asterisk or adopts them on its own start."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callrec_ari.ari import models as ari
from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Kind
from callrec_ari.flow import notes
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.flow.test_controller import CHANNEL, Harness, at, channel, finished, start
from tests.support.audio import open_recording, write_wav

LAST_WRITE = 1_795_514_400  # the moment Asterisk died, as the files' last write


async def in_conversation(harness: Harness) -> CallRecord:
    """A call through the consent step, answered by an agent, recording."""
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    peer = channel("1795514342.7", "PJSIP/agent100-00000007")
    await harness.feed(
        ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL),
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER"),
    )
    record = harness.last()
    assert record.recording_status == RecordingStatus.RECORDING
    return record


def left_open(settings: Settings, record: CallRecord, seconds: float) -> Path:
    """The mix and legs as a killed Asterisk leaves them: audio on disk, sizes 0."""
    mix = settings.recording.service_dir / str(record.recording_path)
    for path in (mix, *leg_files(mix)):
        write_wav(path, seconds)
        open_recording(path)
        os.utime(path, (LAST_WRITE, LAST_WRITE))
    return mix


def assert_settled_from_the_file(row: CallRecord, mix: Path, seconds: float) -> None:
    """Complete, cut by the PBX, measured from the repaired file, ended at its last write."""
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.consent == Consent.GIVEN
    assert row.interrupted_by == "pbx"
    assert row.duration_seconds == pytest.approx(seconds)
    assert row.sha256 == hashlib.sha256(mix.read_bytes()).hexdigest()
    assert row.size_bytes == mix.stat().st_size
    caller, agent = leg_files(mix)
    assert row.caller_leg_sha256 == hashlib.sha256(caller.read_bytes()).hexdigest()
    assert row.agent_leg_sha256 == hashlib.sha256(agent.read_bytes()).hexdigest()
    assert row.ended_at == datetime.fromtimestamp(LAST_WRITE, UTC)
    assert mix.stat().st_mtime == LAST_WRITE
    assert any(f.kind == Kind.NOTE and f.note == notes.PBX_FAILED for f in row.evidence)


async def test_a_call_lost_with_asterisk_is_settled_from_its_repaired_file(settings: Settings):
    """Reconnected to a restarted Asterisk that no longer knows the channel, callrec repairs
    the file left open and settles the call complete, interrupted, at the audio's end."""
    harness = Harness(settings)
    record = await in_conversation(harness)
    mix = left_open(settings, record, 2.5)
    await harness.controller.reconcile()  # the reconnect: the channel is unknown now
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    assert_settled_from_the_file(harness.last(), mix, 2.5)


async def test_a_call_adopted_after_asterisk_died_is_settled_from_its_repaired_file(
    settings: Settings,
):
    """callrec was down too: on its start the adopted call's file is repaired the same way."""
    first = Harness(settings)
    record = await in_conversation(first)
    await first.controller.close(0)
    mix = left_open(settings, record, 1.5)
    revived = Harness(settings)
    await revived.controller.adopt([record])
    await asyncio.wait_for(revived.controller.wait_idle(), 5)
    assert_settled_from_the_file(revived.last(), mix, 1.5)


async def test_a_file_without_a_header_stays_failed_and_kept(settings: Settings):
    """A file the crash left with no header cannot be repaired: failed, file kept, at once."""
    harness = Harness(settings)
    record = await in_conversation(harness)
    mix = settings.recording.service_dir / str(record.recording_path)
    mix.parent.mkdir(parents=True, exist_ok=True)
    mix.write_bytes(b"\x00" * 30)
    await harness.controller.reconcile()
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    row = harness.last()
    assert row.recording_status == RecordingStatus.FAILED
    assert row.interrupted_by == "pbx"
    assert row.recording_path == record.recording_path
    assert mix.read_bytes() == b"\x00" * 30


async def test_a_channel_that_ends_normally_never_has_its_file_repaired(settings: Settings):
    """Seen to end (ChannelDestroyed), a call's file is Asterisk's to close: never repaired,
    even when it does not close in time."""
    harness = Harness(settings)
    record = await in_conversation(harness)
    mix = left_open(settings, record, 1.0)
    await harness.feed(ari.ChannelDestroyed(timestamp=at(30), channel_id=CHANNEL, cause=16))
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    row = harness.last()
    assert row.recording_status == RecordingStatus.FAILED
    assert row.interrupted_by is None
    assert mix.read_bytes()[40:44] == bytes(4)

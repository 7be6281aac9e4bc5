"""A call that had just hung up when Asterisk died: its end seen, its file never closed. Once
a restarted Asterisk proves nothing will close it, it is repaired and settled complete; a
live Asterisk's file is never repaired under it."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from callrec_ari.ari import models as ari
from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Kind
from callrec_ari.flow import notes
from callrec_ari.flow.call import Phase
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.flow.test_controller import CHANNEL, Harness, at
from tests.flow.test_controller_crash import in_conversation, left_open
from tests.support.audio import write_wav

SEEN_END = at(30)  # ChannelDestroyed: the hang-up callrec saw
SETTLE_WAIT = 2.0  # the harness's finalise timeout


async def connected(harness: Harness) -> None:
    """callrec's first connection to Asterisk, whose start time it notes."""
    harness.controller.connection_opened()
    await harness.controller.reconcile()
    harness.ari.requests.clear()  # the call's requests come first, as in_conversation expects


async def hung_up_unclosed(harness: Harness, seconds: float) -> Path:
    """A call in conversation whose caller hung up (seen) while its files stay open."""
    await connected(harness)
    record = await in_conversation(harness)
    mix = left_open(harness.settings, record, seconds)
    await harness.feed(ari.ChannelDestroyed(timestamp=SEEN_END, channel_id=CHANNEL, cause=16))
    assert harness.controller.phase_of(CHANNEL) == Phase.FINALISING
    return mix


async def reconnected(harness: Harness, *, restarted: bool) -> None:
    """The connection lost and opened again, to a new Asterisk or the same one."""
    if restarted:
        harness.ari.restart()
    harness.controller.connection_opened()
    await harness.controller.reconcile()


def assert_repaired(row: CallRecord, mix: Path, seconds: float) -> None:
    """Complete, cut by the PBX, measured from the repaired file, ended when it was seen to."""
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.consent == Consent.GIVEN
    assert row.interrupted_by == "pbx"
    assert row.duration_seconds == pytest.approx(seconds)
    assert row.sha256 == hashlib.sha256(mix.read_bytes()).hexdigest()
    caller, agent = leg_files(mix)
    assert row.caller_leg_sha256 == hashlib.sha256(caller.read_bytes()).hexdigest()
    assert row.agent_leg_sha256 == hashlib.sha256(agent.read_bytes()).hexdigest()
    assert row.ended_at == SEEN_END  # the hang-up seen, not the file's last write
    assert any(f.kind == Kind.NOTE and f.note == notes.PBX_FAILED for f in row.evidence)


async def test_a_restart_while_the_file_is_awaited_repairs_and_completes_it(settings: Settings):
    """The caller hung up, Asterisk died before closing the file and came back: the call is
    settled complete from the repaired file, well before the finalise timeout."""
    harness = Harness(settings)
    mix = await hung_up_unclosed(harness, 2.5)
    started = time.monotonic()
    await reconnected(harness, restarted=True)
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    assert_repaired(harness.last(), mix, 2.5)
    assert time.monotonic() - started < SETTLE_WAIT


async def test_a_reconnect_to_the_same_asterisk_still_waits_then_fails(settings: Settings):
    """A lost connection to an Asterisk that did not restart proves nothing: the file is left
    to Asterisk, and one never closed still fails after the finalise timeout, untouched."""
    harness = Harness(settings)
    mix = await hung_up_unclosed(harness, 1.0)
    started = time.monotonic()
    await reconnected(harness, restarted=False)
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    row = harness.last()
    assert row.recording_status == RecordingStatus.FAILED
    assert row.interrupted_by is None
    assert time.monotonic() - started >= SETTLE_WAIT - 0.5
    assert mix.read_bytes()[40:44] == bytes(4)


async def test_a_slow_close_by_a_live_asterisk_is_measured_as_closed(settings: Settings):
    """The same Asterisk closes the file a moment after a reconnect: measured as it closed it,
    not repaired, not flagged."""
    harness = Harness(settings)
    mix = await hung_up_unclosed(harness, 1.0)
    await reconnected(harness, restarted=False)
    await asyncio.sleep(0.3)
    for path in (mix, *leg_files(mix)):
        write_wav(path, 1.5)  # MixMonitor's last flush and header
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    row = harness.last()
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.interrupted_by is None
    assert row.duration_seconds == pytest.approx(1.5)


async def test_a_wait_that_runs_out_while_asterisk_is_down_waits_for_its_return(
    settings: Settings,
):
    """Asterisk stays down past the finalise timeout: the call is not given up as failed but
    settled complete from the repaired file once the restarted Asterisk is reached."""
    harness = Harness(settings)
    mix = await hung_up_unclosed(harness, 2.0)
    harness.ari.unavailable = True
    await asyncio.sleep(SETTLE_WAIT + 0.3)
    assert harness.controller.phase_of(CHANNEL) == Phase.FINALISING
    assert harness.last().recording_status == RecordingStatus.RECORDING
    harness.ari.unavailable = False
    await reconnected(harness, restarted=True)
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    assert_repaired(harness.last(), mix, 2.0)


async def test_a_hung_up_call_adopted_on_start_keeps_its_seen_end(settings: Settings):
    """callrec stopped while the file was awaited and Asterisk died too: on callrec's start
    the call is adopted from its row, repaired, and keeps the end it was seen to have."""
    first = Harness(settings)
    mix = await hung_up_unclosed(first, 1.5)
    record = first.last()
    assert record.ended_at == SEEN_END
    await first.controller.close(0)
    revived = Harness(settings)
    revived.ari.restart()
    await revived.controller.adopt([record])
    await asyncio.wait_for(revived.controller.wait_idle(), 5)
    assert_repaired(revived.last(), mix, 1.5)

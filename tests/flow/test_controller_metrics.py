"""The controller counts each call once, when its row is final, under its outcome."""

from __future__ import annotations

import asyncio

from prometheus_client import generate_latest

from callrec_ari.ari import models as ari
from callrec_ari.config import Settings
from callrec_ari.metrics import Metrics
from callrec_ari.recording.finalise import marker_for
from tests.flow.test_controller import CHANNEL, Harness, at, channel, finished, start
from tests.support.audio import write_wav
from tests.support.metrics import Scrape


def calls(metrics: Metrics) -> dict[tuple[str, str], float]:
    """The calls counted so far, by (consent, recording)."""
    scrape = Scrape(generate_latest(metrics.registry).decode())
    return {
        (s.labels["consent"], s.labels["recording"]): s.value
        for s in scrape.samples
        if s.name == "callrec_calls_total"
    }


async def connect_and_record(harness: Harness) -> None:
    """Announcement heard to its end, the agent answers: the call is being recorded."""
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    await harness.feed(
        ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL),
        ari.Dial(
            timestamp=at(14),
            channel_id=CHANNEL,
            peer=channel("1795514342.7", "PJSIP/agent100-00000007"),
            dialstatus="ANSWER",
        ),
    )


async def test_a_caller_who_hangs_up_in_the_announcement_counts_once_as_abandoned(
    settings: Settings,
):
    """Nothing is counted while the announcement plays; the hang-up counts one abandoned call."""
    metrics = Metrics()
    harness = Harness(settings, metrics=metrics)
    await harness.feed(start())
    assert calls(metrics) == {}
    await harness.feed(ari.ChannelDestroyed(timestamp=at(5), channel_id=CHANNEL, cause=16))
    await asyncio.wait_for(harness.controller.wait_idle(), 2)
    assert calls(metrics) == {("abandoned", "none"): 1}


async def test_a_recorded_call_counts_once_when_its_recording_is_settled(settings: Settings):
    """While the recording runs and while it is settled nothing is counted; then one
    given/complete call, though the call's row changed many times."""
    metrics = Metrics()
    harness = Harness(settings, metrics=metrics)
    await connect_and_record(harness)
    wav = settings.recording.service_dir / "2026/11/24/1795514341.6.wav"
    write_wav(wav, 2.0)
    await harness.feed(ari.ChannelDestroyed(timestamp=at(17), channel_id=CHANNEL, cause=16))
    assert calls(metrics) == {}  # ended, but the file is still being closed
    marker_for(wav).touch()
    await asyncio.wait_for(harness.controller.wait_idle(), 2)
    assert len(harness.records) > 3
    assert calls(metrics) == {("given", "complete"): 1}


async def test_a_call_adopted_after_a_restart_is_counted_by_the_new_process(settings: Settings):
    """The process that died never counted the call; the one that settles it does, once."""
    dead = Metrics()
    harness = Harness(settings, metrics=dead)
    await connect_and_record(harness)
    await harness.controller.close(0)
    wav = settings.recording.service_dir / str(harness.last().recording_path)
    write_wav(wav, seconds=1)
    marker_for(wav).touch()

    revived = Metrics()
    after = Harness(settings, metrics=revived)
    await after.controller.adopt([harness.last()])
    await asyncio.wait_for(after.controller.wait_idle(), 5)
    assert calls(dead) == {}
    assert calls(revived) == {("given", "complete"): 1}

"""The call controller on outbound calls: Stasis arguments, the key timer, no row when off."""

from __future__ import annotations

import asyncio
from pathlib import Path

from structlog.testing import capture_logs

from callrec_ari.ari import models as ari
from callrec_ari.flow.arrival import arrival_from
from callrec_ari.flow.call import Phase
from callrec_ari.log import mask_numbers
from callrec_ari.records import Consent, Direction
from tests.flow.conftest import example_settings
from tests.flow.test_controller import Harness, at, channel, finished
from tests.flow.test_outbound import outbound_settings

CALLEE_CHANNEL = "1795600000.12"
ARGS = ("outbound", "0040211234567", "1795600000.11", "agent100")


def answered(args: tuple[str, ...] = ARGS) -> ari.StasisStart:
    """The callee's channel entering Stasis from callrec-outbound-consent."""
    return ari.StasisStart(timestamp=at(0), channel=channel(CALLEE_CHANNEL), args=args)


def test_outbound_stasis_arguments_name_the_callee_the_call_and_the_staff_phone():
    """callrec-outbound-consent's arguments become the arrival of an outbound call."""
    arrival = arrival_from(channel(CALLEE_CHANNEL), ARGS, at(0))
    assert arrival.outbound is True
    assert arrival.dialled_number == "0040211234567"
    assert arrival.caller_number == "0040211234567"
    assert arrival.linkedid == "1795600000.11"
    assert arrival.agent == "agent100"


def test_hostile_outbound_arguments_are_dropped():
    """A number, linkedid or staff name that is not one is not trusted."""
    arrival = arrival_from(
        channel(CALLEE_CHANNEL), ("outbound", "12;rm -rf", "../..", "a b\nc"), at(0)
    )
    assert arrival.dialled_number == ""
    assert arrival.linkedid == CALLEE_CHANNEL
    assert arrival.agent is None


async def test_the_callees_number_is_masked_in_the_logs(tmp_path: Path):
    """The callee is a data subject: their number never reaches the logs in full."""
    harness = Harness(outbound_settings(tmp_path))
    with capture_logs(processors=[mask_numbers]) as logs:
        await harness.feed(answered())
    [arrived] = [line for line in logs if line["event"] == "call.arrived"]
    assert arrived["outbound"] is True
    assert "0040211234567" not in repr(logs)
    assert arrived["number"].endswith("567")


async def test_no_key_in_time_connects_the_callee_unrecorded(tmp_path: Path):
    """The controller's timer feeds the timeout: continue to the unrecorded context."""
    harness = Harness(outbound_settings(tmp_path, timeout_seconds=0.05, languages=["ro"]))
    await harness.feed(answered())
    assert harness.ari.operations(CALLEE_CHANNEL) == ["play"]  # no answer: the callee did
    playback = harness.ari.requests[0].details["playback_id"]
    await harness.feed(finished(playback, channel_id=CALLEE_CHANNEL))
    go = await asyncio.wait_for(harness.ari.requested("continue", CALLEE_CHANNEL), 5)
    assert go.details["context"] == "callrec-outbound-unrecorded"
    await harness.feed()
    row = harness.last(CALLEE_CHANNEL)
    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.NO_RESPONSE


async def test_the_agree_key_in_time_records_the_call(tmp_path: Path):
    """Agreeing within the timeout sends the callee to MixMonitor's context."""
    harness = Harness(outbound_settings(tmp_path, timeout_seconds=0.1, languages=["ro"]))
    await harness.feed(answered())
    playback = harness.ari.requests[0].details["playback_id"]
    await harness.feed(
        finished(playback, channel_id=CALLEE_CHANNEL),
        ari.DtmfReceived(timestamp=at(13), channel_id=CALLEE_CHANNEL, digit="1"),
    )
    assert harness.ari.requests[-1].details["context"] == "callrec-outbound-record"
    await harness.feed(ari.StasisEnd(timestamp=at(13), channel_id=CALLEE_CHANNEL))
    assert harness.controller.phase_of(CALLEE_CHANNEL) == Phase.CONNECTED
    assert harness.last(CALLEE_CHANNEL).consent == Consent.GIVEN


async def test_with_outbound_off_the_callee_goes_straight_through_and_no_row_is_written(
    tmp_path: Path,
):
    """Seed 000: no announcement, no record submitted, only the continue."""
    harness = Harness(example_settings(tmp_path))
    await harness.feed(answered())
    await asyncio.wait_for(harness.controller.wait_idle(), 1)
    assert harness.ari.operations(CALLEE_CHANNEL) == ["continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-outbound-unrecorded"
    assert harness.records == []


async def test_a_callee_left_in_the_application_is_recovered_through_the_outbound_context(
    tmp_path: Path,
):
    """After a restart a callee found in Stasis goes on unrecorded, back to Dial()."""
    harness = Harness(outbound_settings(tmp_path))
    harness.ari.add_channel(
        CALLEE_CHANNEL, app_data="callrec,outbound,0040211234567,1795600000.11,agent100"
    )
    await harness.controller.reconcile()
    await harness.feed()
    assert harness.ari.requests[-1].details["context"] == "callrec-outbound-unrecorded"
    row = harness.last(CALLEE_CHANNEL)
    assert row.consent == Consent.INTERRUPTED
    assert row.direction == Direction.OUTBOUND

"""The call controller: ARI events in, commands out through the fake ARI, records to the writer."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from structlog.testing import capture_logs

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.config import Settings
from callrec_ari.flow.arrival import agent_of, arrival_from, stasis_args
from callrec_ari.flow.call import Phase
from callrec_ari.flow.controller import CallController
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.metrics import Metrics
from callrec_ari.recording.finalise import marker_for, settle
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.support.audio import close_recording, open_recording, write_wav

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CHANNEL = "1795514341.6"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def channel(channel_id: str = CHANNEL, name: str = "PJSIP/trunk-00000006") -> ari.Channel:
    return ari.Channel(
        id=channel_id,
        name=name,
        state="Ring",
        caller_number="48221234567",
        context="callrec-consent",
        app_data="callrec,5551000,1795514341.6",
        created=T0,
    )


class Harness:
    def __init__(
        self,
        settings: Settings,
        do_not_record: frozenset[str] = frozenset(),
        metrics: Metrics | None = None,
        quiet_seconds: float = 0.2,
        find_agents_after: float | None = None,
        *,
        ari: FakeAri | None = None,
    ) -> None:
        self.ari = ari or FakeAri()
        self.records: list[CallRecord] = []
        self.settings = settings
        self.controller = CallController(
            ari=self.ari,
            flow=ConsentFlow(settings),
            recordings_dir=settings.recording.service_dir,
            submit=self.records.append,
            settle=lambda path, discard=False: settle(
                path, wait_seconds=2, poll=0.01, discard=discard
            ),
            do_not_record=lambda number: number in do_not_record,
            clock=lambda: at(100),
            metrics=metrics,
            quiet_seconds=quiet_seconds,
            follow_agents=settings.dialplan.follow_agents,
            find_agents_after=find_agents_after,
        )

    async def feed(self, *events: ari.AriEvent) -> None:
        """Hand the events over and wait until each has had its effect."""
        for event in events:
            self.controller.on_event(event)
        for _ in range(10_000):
            await asyncio.sleep(0)  # let the call tasks run, then look again
            if not self.controller.events_pending:
                return
        raise AssertionError("the controller did not finish the events")

    def last(self, channel_id: str = CHANNEL) -> CallRecord:
        return [r for r in self.records if r.uniqueid == channel_id][-1]


@pytest.fixture
def harness(settings: Settings) -> Harness:
    return Harness(settings)


def start(channel_id: str = CHANNEL) -> ari.StasisStart:
    return ari.StasisStart(
        timestamp=at(0), channel=channel(channel_id), args=("5551000", "1795514341.6")
    )


def finished(
    playback_id: str, channel_id: str = CHANNEL, state: str = "done"
) -> ari.PlaybackFinished:
    return ari.PlaybackFinished(
        timestamp=at(12), channel_id=channel_id, playback_id=playback_id, state=state
    )


async def test_a_consenting_call_is_recorded_and_finalised(harness: Harness):
    """The whole happy path: announce, consent, connect, agent answers, hang up, WAV measured."""
    await harness.feed(start())
    # The subscription is asked while the announcement plays, not after it.
    assert harness.ari.operations(CHANNEL) == ["answer", "play", "subscribe"]
    playback = harness.ari.requests[1].details["playback_id"]
    await harness.feed(finished(playback))
    assert harness.ari.operations(CHANNEL)[3:] == ["set_variables", "continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-record"
    peer = channel("1795514342.7", "PJSIP/agent100-00000007")
    await harness.feed(
        ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL),
        ari.Dial(timestamp=at(13), channel_id=CHANNEL, peer=peer, dialstatus="RINGING"),
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER"),
    )
    wav = harness.settings.recording.service_dir / "2026/11/24/1795514341.6.wav"
    write_wav(wav, 3.0)
    open_recording(wav)  # Asterisk is still closing the file as the channel goes
    await harness.feed(ari.ChannelDestroyed(timestamp=at(17), channel_id=CHANNEL, cause=16))
    assert harness.controller.phase_of(CHANNEL) == Phase.FINALISING
    close_recording(wav)
    await asyncio.wait_for(harness.controller.wait_idle(), 2)
    row = harness.last()
    assert row.consent == Consent.GIVEN
    assert row.agent == "agent100"
    assert row.answered_at == at(14)
    assert row.ended_at == at(17)
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.duration_seconds == pytest.approx(3.0)
    assert row.size_bytes == wav.stat().st_size
    assert row.sha256 is not None
    assert len(row.sha256) == 64


async def test_each_call_logs_with_its_channel_id(harness: Harness):
    """Every log line of a call carries the call's channel id."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await harness.feed(start())
    call_lines = [line for line in logs if line["event"].startswith("call.")]
    assert call_lines
    assert all(line.get("call_id") == CHANNEL for line in call_lines)


async def test_abandoned_call_writes_a_row_and_asks_for_nothing_more(harness: Harness):
    """A hang-up during the announcement gives one final row with consent abandoned."""
    await harness.feed(start(), ari.StasisEnd(timestamp=at(4), channel_id=CHANNEL))
    await asyncio.wait_for(harness.controller.wait_idle(), 1)
    assert harness.last().consent == Consent.ABANDONED
    assert harness.ari.operations(CHANNEL) == ["answer", "play", "subscribe"]


@pytest.mark.parametrize("reported", ["failed", "done"])
async def test_a_hang_up_is_abandoned_even_when_asterisk_still_takes_the_continue(
    harness: Harness, reported: str
):
    """A caller hangs up mid-announcement on a busy Asterisk: the playback's end arrives (as
    failed or as done) while the channel is still in Stasis, so a continue would be accepted.
    The hang-up request came first: no continue is sent and nothing says callrec failed."""
    await harness.feed(start())
    playback = harness.ari.requests[1].details["playback_id"]
    await harness.feed(
        ari.HangupRequested(timestamp=at(1.5), channel_id=CHANNEL),
        finished(playback, state=reported),
        ari.StasisEnd(timestamp=at(1.52), channel_id=CHANNEL),
        ari.ChannelDestroyed(timestamp=at(1.53), channel_id=CHANNEL, cause=16),
    )
    await asyncio.wait_for(harness.controller.wait_idle(), 1)
    assert harness.ari.operations(CHANNEL) == ["answer", "play", "subscribe"]
    [row] = [r for r in harness.records if r.finished]
    assert row.consent == Consent.ABANDONED
    assert row.ended_at == at(1.5)
    assert row.recording_status == RecordingStatus.NONE


async def test_channel_gone_mid_command_is_not_an_error(harness: Harness):
    """If the caller hangs up while we answer, the call simply ends as abandoned."""
    harness.ari.fail("answer", status=404)
    with capture_logs() as logs:
        await harness.feed(start())
    assert "play" not in harness.ari.operations(CHANNEL)
    assert not [line for line in logs if line["log_level"] == "error"]
    await harness.feed(ari.StasisEnd(timestamp=at(1), channel_id=CHANNEL))
    assert harness.last().consent == Consent.ABANDONED


async def test_asterisk_refusing_to_play_lets_the_call_through(harness: Harness):
    """A 500 on play connects the caller unrecorded rather than leaving them in silence."""
    harness.ari.fail("play", status=500)
    await harness.feed(start())
    assert harness.ari.operations(CHANNEL) == ["answer", "play", "subscribe", "continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    assert harness.last().consent == Consent.INTERRUPTED


async def test_events_of_different_calls_do_not_mix(harness: Harness):
    """Two calls at once each keep their own state."""
    await harness.feed(start("1.1"), start("2.2"))
    play_one = next(r for r in harness.ari.requests if r.target == "1.1" and r.operation == "play")
    await harness.feed(finished(play_one.details["playback_id"], channel_id="1.1"))
    assert harness.controller.phase_of("1.1") == Phase.CONNECTED
    assert harness.controller.phase_of("2.2") == Phase.ANNOUNCING


async def test_reconcile_frees_channels_left_by_a_crashed_service(harness: Harness):
    """After a restart, channels found in the application go on unrecorded."""
    harness.ari.add_channel("9.9", app_data="callrec,5552000,9.9")
    await harness.controller.reconcile()
    await harness.feed()
    assert harness.ari.operations("9.9")[-2:] == ["subscribe", "continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    row = harness.last("9.9")
    assert row.consent == Consent.INTERRUPTED
    assert row.dialled_number == "5552000"
    assert row.languages == ("fi", "sv")


async def test_reconcile_ends_connected_calls_whose_channel_vanished(harness: Harness):
    """After Asterisk restarts, a connected call it no longer knows is ended, not kept forever."""
    await harness.feed(start())
    playback = harness.ari.requests[1].details["playback_id"]
    await harness.feed(finished(playback))
    await harness.controller.reconcile()
    await harness.feed()
    assert harness.controller.phase_of(CHANNEL) == Phase.FINALISING
    assert harness.last().ended_at == at(100)


def test_arrival_rejects_hostile_stasis_arguments():
    """A dialled number or linkedid that is not one is dropped, not trusted."""
    arrival = arrival_from(channel(), ("55;rm -rf", "../../etc"), T0)
    assert arrival.dialled_number == ""
    assert arrival.linkedid == CHANNEL


def test_agent_is_read_from_the_dialled_channel_name():
    """PJSIP/agent100-0000001f is agent100; a Local channel keeps its extension."""
    assert agent_of(channel(name="PJSIP/agent100-0000001f")) == "agent100"
    assert agent_of(channel(name="Local/100@agents-00000001;1")) == "100@agents"


async def test_reconcile_limits_events_to_those_the_flow_uses(harness: Harness):
    """On every connection the application's event filter is set to the events callrec handles."""
    await harness.controller.reconcile()
    [request] = [r for r in harness.ari.requests if r.operation == "set_event_filter"]
    assert set(request.details["event_types"]) == {
        "StasisStart",
        "StasisEnd",
        "ChannelHangupRequest",  # ahead of the playback a hang-up cuts (flow/states.py)
        "ChannelDtmfReceived",
        "PlaybackFinished",
        "Dial",
        "ChannelDestroyed",
        "ChannelUserevent",
        "CallBroadcast",  # several instances: the calls offered to each (ha/claims.py)
        "ApplicationReplaced",  # another connection took our application (ari/events.py)
    }


async def test_an_asterisk_without_event_filters_still_works(harness: Harness):
    """If Asterisk refuses the filter, reconciliation goes on and calls are still handled."""
    harness.ari.fail("set_event_filter", status=405)
    harness.ari.add_channel("9.9")
    await harness.controller.reconcile()
    await harness.feed()
    assert harness.ari.operations("9.9")[-1] == "continue"


async def test_stopping_the_service_lets_announcing_callers_through(harness: Harness):
    """On a clean stop, a caller still hearing the announcement is connected, not left waiting."""
    await harness.feed(start())
    await harness.controller.close()
    assert harness.ari.operations(CHANNEL)[-2:] == ["subscribe", "continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    assert harness.last().consent == Consent.INTERRUPTED


async def test_a_caller_on_the_do_not_record_list_is_connected_unrecorded(settings: Settings):
    """The controller asks the in-memory list; the notice plays and the call goes on unrecorded."""
    harness = Harness(settings, do_not_record=frozenset({"48221234567"}))
    await harness.feed(start())
    play = harness.ari.requests[1]
    assert play.details["media"] == ("sound:callrec/not-recorded",)
    await harness.feed(finished(play.details["playback_id"]))
    assert harness.ari.operations(CHANNEL)[2:] == ["subscribe", "continue"]
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    assert harness.last().consent == Consent.OPTED_OUT
    assert harness.last().recording_path is None


async def test_a_restarted_service_settles_a_recording_whose_call_ended_while_it_was_down(
    settings: Settings,
):
    """The unfinished snapshot is adopted: the call's end is its file's last write."""
    harness = Harness(settings)
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    await harness.feed(
        ari.Dial(
            timestamp=at(14),
            channel_id=CHANNEL,
            peer=channel("x", "PJSIP/agent100-01"),
            dialstatus="ANSWER",
        )
    )
    connected = harness.last()
    assert connected.recording_status == RecordingStatus.RECORDING
    await harness.controller.close(0)  # the service dies; the call goes on in Asterisk

    wav = settings.recording.service_dir / str(connected.recording_path)
    write_wav(wav, seconds=2)
    marker_for(wav).touch()
    revived = Harness(settings)  # a new process; Asterisk no longer has the channel
    await revived.controller.adopt([connected])
    await asyncio.wait_for(revived.controller.wait_idle(), 5)
    row = revived.last()
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.duration_seconds == pytest.approx(2.0)
    assert row.ended_at == datetime.fromtimestamp(wav.stat().st_mtime, UTC)
    assert row.agent == "agent100"
    assert revived.ari.operations(CHANNEL) == ["get_channel"]  # only asked whether it is up


async def test_a_restarted_service_follows_a_call_still_up(settings: Settings):
    """A live adopted call is subscribed to; its ChannelDestroyed then ends it as usual."""
    harness = Harness(settings)
    harness.ari.add_channel(CHANNEL, in_app=False)
    record = dataclasses.replace(
        (await _connected_snapshot(settings)), agent="agent100", answered_at=at(14)
    )
    await harness.controller.adopt([record])
    await harness.feed()
    assert harness.ari.operations(CHANNEL) == ["get_channel", "subscribe"]
    assert harness.controller.phase_of(CHANNEL) == Phase.CONNECTED
    wav = settings.recording.service_dir / str(record.recording_path)
    write_wav(wav, seconds=1)
    marker_for(wav).touch()
    await harness.feed(ari.ChannelDestroyed(timestamp=at(40), channel_id=CHANNEL, cause=16))
    await asyncio.wait_for(harness.controller.wait_idle(), 5)
    assert harness.last().ended_at == at(40)
    assert harness.last().recording_status == RecordingStatus.COMPLETE


async def _connected_snapshot(settings: Settings) -> CallRecord:
    harness = Harness(settings)
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    await harness.controller.close(0)
    return harness.last()


async def test_the_withdrawal_event_marks_the_call_and_its_end_deletes_the_recording(
    harness: Harness,
):
    """The dialplan's UserEvent makes the row withdrawn at once; at the end the WAV, its
    markers and every trace of the audio are gone, and nothing was measured."""
    await harness.feed(start())
    await harness.feed(finished(harness.ari.requests[1].details["playback_id"]))
    peer = channel("1795514342.7", "PJSIP/agent100-00000007")
    await harness.feed(
        ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL),
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER"),
    )
    with capture_logs() as logs:
        await harness.feed(ari.ConsentWithdrawn(timestamp=at(17.01), channel_id=CHANNEL, at=at(17)))
    [logged] = [line for line in logs if line["event"] == "call.transition"]
    assert (logged["consent"], logged["cause"]) == (Consent.WITHDRAWN, "Withdrawn")
    assert harness.last().consent == Consent.WITHDRAWN
    assert harness.last().withdrawn_at == at(17)
    wav = harness.settings.recording.service_dir / "2026/11/24/1795514341.6.wav"
    write_wav(wav, 3.0)
    marker_for(wav).touch()  # MixMonitor closed the file when the dialplan stopped it
    wav.with_name(wav.name + ".withdrawn").write_text("callrec-withdrawn/1|x|1795514357")
    await harness.feed(ari.ChannelDestroyed(timestamp=at(30), channel_id=CHANNEL, cause=16))
    await asyncio.wait_for(harness.controller.wait_idle(), 2)
    row = harness.last()
    assert (row.consent, row.withdrawn_at, row.ended_at) == (Consent.WITHDRAWN, at(17), at(30))
    assert row.recording_status == RecordingStatus.DELETED
    assert (row.recording_path, row.sha256, row.size_bytes) == (None, None, None)
    assert not any(wav.parent.iterdir())
    # The dialplan stopped MixMonitor; the service sent Asterisk nothing for the withdrawal.
    assert harness.ari.operations(CHANNEL) == [
        "answer",
        "play",
        "subscribe",
        "set_variables",
        "continue",
    ]


def test_the_arguments_of_a_broadcast_call_are_read_back_from_its_channel():
    """StasisBroadcast(timeout,filter,DID:linkedid) gives the same arguments as Stasis()."""
    plain = dataclasses.replace(channel(), app_name="Stasis")
    broadcast = dataclasses.replace(
        channel(), app_name="StasisBroadcast", app_data="500,^callrec-[ab]$,5551000:1795514341.6"
    )
    assert stasis_args(plain) == stasis_args(broadcast) == ("5551000", "1795514341.6")
    assert stasis_args(dataclasses.replace(broadcast, app_data="500")) == ()


async def test_recover_lets_through_a_broadcast_call_and_leaves_a_call_in_conversation(
    harness: Harness,
):
    """A channel waiting in StasisBroadcast goes on unrecorded; one already in Dial() is not
    sent anywhere (adoption follows it from its row)."""
    harness.ari.add_channel(
        "3.3", app_data="500,^callrec-[ab]$,5552000:3.3", app_name="StasisBroadcast"
    )
    harness.ari.add_channel("4.4", app_data="PJSIP/agent100,60", app_name="Dial")
    assert await harness.controller.recover(["3.3", "4.4"]) == ["3.3"]
    await harness.feed()
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    assert harness.last("3.3").dialled_number == "5552000"
    assert harness.ari.operations("4.4") == ["get_channel"]


class SlowAnswer(FakeAri):
    """Asterisk still answering the channel (the answer is held until ``answered`` is set)."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = asyncio.Event()

    async def answer(self, channel_id: str) -> None:
        await super().answer(channel_id)
        await self.answered.wait()


@pytest.mark.parametrize("in_order", [True, False])
async def test_over_the_event_socket_the_announcement_is_requested_with_the_answer(
    settings: Settings, in_order: bool
):
    """When Asterisk carries requests out in the order sent (REST on the event socket), play
    and subscribe go out before the answer comes back, so the announcement follows the answer
    at once; over HTTP each waits for the one before."""
    slow = SlowAnswer()
    slow.in_order = in_order
    harness = Harness(settings, ari=slow)
    harness.controller.on_event(start())
    await slow.requested("answer", CHANNEL)
    for _ in range(20):
        await asyncio.sleep(0)
    expected = ["answer", "play", "subscribe"] if in_order else ["answer"]
    assert slow.operations(CHANNEL) == expected
    slow.answered.set()
    await harness.feed()
    assert slow.operations(CHANNEL) == ["answer", "play", "subscribe"]


async def test_a_failed_answer_sent_with_the_announcement_lets_the_call_through(
    settings: Settings,
):
    """Sent together, the first failure decides: the call is connected unrecorded, with the
    subscription asked again, and the play already sent is stopped."""
    harness = Harness(settings)
    harness.ari.in_order = True
    harness.ari.fail("answer", status=500)
    await harness.feed(start())
    assert harness.ari.operations(CHANNEL)[:3] == ["answer", "play", "subscribe"]
    assert harness.ari.operations(CHANNEL)[-1] == "continue"
    assert harness.ari.requests[-1].details["context"] == "callrec-unrecorded"
    assert harness.last().consent == Consent.INTERRUPTED

"""The consent state machine, driven directly without any I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call, Phase
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.records import Consent, RecordingStatus
from tests.flow.conftest import example_settings

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def arrival(did: str = "5551000") -> ev.CallArrived:
    return ev.CallArrived(
        at=T0,
        channel_id="1795514341.6",
        linkedid="1795514341.6",
        caller_number="48221234567",
        dialled_number=did,
    )


def finish_prompt(
    flow: ConsentFlow, call: Call, seconds: float = 12
) -> tuple[Call, list[cmd.Command]]:
    assert call.playback_id is not None
    return flow.handle(
        call, ev.PromptFinished(at=at(seconds), playback_id=call.playback_id, failed=False)
    )


def test_arrival_answers_and_plays_the_routes_language_with_the_decline_hint(settings: Settings):
    """A call to a Polish number is answered and hears the Polish announcement and decline hint."""
    call, commands = ConsentFlow(settings).start(arrival("5551000"))
    assert call.phase == Phase.ANNOUNCING
    assert commands[0] == cmd.Answer()
    play = commands[1]
    assert isinstance(play, cmd.Play)
    assert play.language == "pl"
    assert play.media == ("sound:callrec/announcement", "sound:callrec/decline-hint")
    assert call.record.consent == Consent.PENDING
    assert call.record.retention_policy == "days-7"
    assert call.record.recording_status == RecordingStatus.NONE


def test_without_a_decline_key_no_hint_is_played(tmp_path: Path):
    """When no decline key is configured, the caller is not told to press one."""
    flow = ConsentFlow(example_settings(tmp_path, decline_key=""))
    _, commands = flow.start(arrival())
    play = commands[1]
    assert isinstance(play, cmd.Play)
    assert play.media == ("sound:callrec/announcement",)


def test_unknown_number_gets_the_default_route(settings: Settings):
    """A dialled number no route names gets the default route's language and policy."""
    call, commands = ConsentFlow(settings).start(arrival("999"))
    assert isinstance(commands[1], cmd.Play)
    assert commands[1].language == "en"
    assert call.record.retention_policy == "months-6"


def test_two_languages_play_one_after_the_other_before_consent(settings: Settings):
    """A Finnish municipality's caller hears Finnish, then Swedish, and only then is recorded."""
    flow = ConsentFlow(settings)
    call, commands = flow.start(arrival("5552000"))
    assert [c.language for c in commands if isinstance(c, cmd.Play)] == ["fi"]
    call, commands = finish_prompt(flow, call, 10)
    assert [c.language for c in commands if isinstance(c, cmd.Play)] == ["sv"]
    assert call.phase == Phase.ANNOUNCING
    assert call.record.consent == Consent.PENDING
    call, commands = finish_prompt(flow, call, 20)
    assert call.record.consent == Consent.GIVEN
    assert call.record.languages == ("fi", "sv")


def test_staying_on_to_the_end_gives_consent_and_records(settings: Settings):
    """Past the end of the announcement the call goes to the recording context with a dated path."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = finish_prompt(flow, call)
    assert call.phase == Phase.HANDING_OFF
    assert call.record.consent == Consent.GIVEN
    assert call.record.recording_status == RecordingStatus.RECORDING
    assert call.record.recording_path == "2026/11/24/1795514341.6.wav"
    assert commands == [
        cmd.SetVariables(
            variables={
                "CALLREC_FILE": "/srv/rec/2026/11/24/1795514341.6.wav",
                # the caller's decline key "9" withdraws during the conversation
                "CALLREC_WITHDRAW_FEATURE": "callrec-withdraw-9",
            }
        ),
        # subscribed while the announcement played (start)
        cmd.Continue(context="callrec-record", recorded=True),
    ]
    call, commands = flow.handle(call, ev.Continued(at=at(12.01)))
    assert call.phase == Phase.CONNECTED
    assert commands == []


def test_hanging_up_as_the_prompt_ends_is_abandoned_not_consent(settings: Settings):
    """A hang-up also ends the playback; the refused continue shows nobody was reached."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call, 4)
    call, commands = flow.handle(call, ev.ChannelGone(at=at(4.01)))
    assert commands == []
    assert call.record.consent == Consent.ABANDONED
    assert call.record.recording_status == RecordingStatus.NONE
    assert call.record.recording_path is None
    call, _ = flow.handle(call, ev.LeftStasis(at=at(4.02)))
    assert call.phase == Phase.DONE
    assert call.record.ended_at == at(4.02)


def test_hang_up_mid_prompt_reported_as_failed_playback_is_abandoned(settings: Settings):
    """Asterisk reports a playback cut by a hang-up as failed; the call ends as abandoned."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = flow.handle(
        call, ev.PromptFinished(at=at(1), playback_id=call.playback_id or "", failed=True)
    )
    assert commands[-1] == cmd.Continue(context="callrec-unrecorded", recorded=False)
    call, _ = flow.handle(call, ev.ChannelGone(at=at(1.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(1.02)))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.ABANDONED


def test_a_hang_up_request_mid_announcement_is_abandoned_whatever_the_playback_says(
    settings: Settings,
):
    """Asterisk reports the hang-up before the playback it cuts ends (as failed or as done):
    the call ends there as abandoned, with nothing heard, and the playback's end changes
    nothing (no continue, no "callrec could not complete the consent step")."""
    flow = ConsentFlow(settings)
    for failed in (True, False):
        call, _ = flow.start(arrival())
        playback = call.playback_id or ""
        call, commands = flow.handle(call, ev.HangUpRequested(at=at(1)))
        assert commands == []
        assert call.phase == Phase.DONE
        assert call.record.consent == Consent.ABANDONED
        assert call.record.ended_at == at(1)
        assert [f.kind for f in call.record.evidence if f.kind in (Kind.HEARD, Kind.HUNG_UP)] == [
            Kind.HUNG_UP
        ]
        after, commands = flow.handle(
            call, ev.PromptFinished(at=at(1.01), playback_id=playback, failed=failed)
        )
        assert (after, commands) == (call, [])


def test_a_hang_up_request_after_the_announcement_leaves_the_call_to_its_end(settings: Settings):
    """Past the consent step a hang-up request is only the start of the call's end: the
    recording is settled when the channel is gone, as for any other end."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.Continued(at=at(12.01)))
    after, commands = flow.handle(call, ev.HangUpRequested(at=at(30)))
    assert (after, commands) == (call, [])
    assert after.record.consent == Consent.GIVEN


def test_our_own_hang_up_after_the_decline_notice_keeps_the_call_declined(settings: Settings):
    """In hang-up mode callrec ends the call after the decline notice; the request that
    causes changes nothing, and the call ends declined when it leaves Stasis."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival("5554000"))
    call, _ = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    assert call.phase == Phase.DECLINING
    after, commands = flow.handle(call, ev.HangUpRequested(at=at(2.5)))
    assert (after, commands) == (call, [])
    call, _ = flow.handle(call, ev.LeftStasis(at=at(2.6)))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.DECLINED


def test_declining_then_hanging_up_at_once_stays_declined(settings: Settings):
    """A caller who pressed the decline key and hung up before being connected declined."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    call, _ = flow.handle(call, ev.ChannelGone(at=at(2.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(2.02)))
    assert call.record.consent == Consent.DECLINED
    assert call.phase == Phase.DONE


def test_a_failed_subscription_still_connects_the_call(settings: Settings):
    """If Asterisk refuses the subscription of an unrecorded hand-off, the call still connects."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    call, commands = flow.handle(call, ev.CommandFailed(command=cmd.Subscribe()))
    assert commands == [cmd.Continue(context="callrec-unrecorded", recorded=False)]


def test_hanging_up_during_the_announcement_is_abandoned_and_unrecorded(settings: Settings):
    """A caller who leaves during the announcement is never recorded."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = flow.handle(call, ev.LeftStasis(at=at(3)))
    assert commands == []
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.ABANDONED
    assert call.record.recording_status == RecordingStatus.NONE
    assert call.record.recording_path is None
    assert call.record.ended_at == at(3)


def test_decline_key_connects_unrecorded(settings: Settings):
    """Pressing the decline key stops the announcement and connects the call without recording."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    playback = call.playback_id
    call, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    assert commands == [
        cmd.StopPlayback(playback_id=playback or ""),
        cmd.Continue(context="callrec-unrecorded", recorded=False),
    ]
    assert call.record.consent == Consent.DECLINED
    # The stopped playback's end must not turn into consent.
    call, commands = flow.handle(
        call, ev.PromptFinished(at=at(2.1), playback_id=playback or "", failed=False)
    )
    assert commands == []
    assert call.record.consent == Consent.DECLINED
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(60)))
    assert call.phase == Phase.DONE
    assert commands == []
    assert call.record.recording_status == RecordingStatus.NONE


def test_other_keys_are_ignored(settings: Settings):
    """Only the configured decline key means "no"."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    after, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="5"))
    # The key is kept as evidence, and nothing else changes.
    assert replace(after.record, evidence=call.record.evidence) == call.record
    assert after.record.evidence[-1] == Fact(kind=Kind.PRESSED, at=at(2), digit="5")
    assert after.phase == call.phase
    assert commands == []


def test_decline_in_hangup_mode_plays_the_decline_prompt_then_hangs_up(settings: Settings):
    """On a hang-up route the decliner hears the decline prompt, then the call ends politely."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival("5554000"))
    call, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    assert call.phase == Phase.DECLINING
    play = commands[-1]
    assert isinstance(play, cmd.Play)
    assert play.media == ("sound:callrec/declined",)
    assert play.language == "ro"
    call, commands = finish_prompt(flow, call, 6)
    assert commands == [cmd.Hangup()]
    call, _ = flow.handle(call, ev.LeftStasis(at=at(6.1)))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.DECLINED


def test_recorded_call_is_finalised_once_the_file_settles(settings: Settings):
    """After hang-up the flow waits for the WAV, then stores its size, duration and hash."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(12.01)))
    assert call.phase == Phase.CONNECTED
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(13), agent="agent100"))
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(14), agent="agent200"))
    assert call.record.agent == "agent100"
    assert call.record.answered_at == at(13)
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(40)))
    assert call.phase == Phase.FINALISING
    assert commands == [cmd.AwaitRecording(path=PurePosixPath("2026/11/24/1795514341.6.wav"))]
    settled = ev.RecordingSettled(
        status=RecordingStatus.COMPLETE, duration_seconds=27.0, size_bytes=432044, sha256="ab" * 32
    )
    call, commands = flow.handle(call, settled)
    assert call.phase == Phase.DONE
    assert commands == []
    assert call.record.recording_status == RecordingStatus.COMPLETE
    assert call.record.sha256 == "ab" * 32
    assert call.record.finished


def test_a_prompt_that_fails_to_play_is_never_taken_as_consent(settings: Settings):
    """If Asterisk cannot play the announcement the caller was not informed: connect unrecorded."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = flow.handle(
        call, ev.PromptFinished(at=at(1), playback_id=call.playback_id or "", failed=True)
    )
    assert call.record.consent == Consent.INTERRUPTED
    assert commands[-1] == cmd.Continue(context="callrec-unrecorded", recorded=False)
    assert call.record.recording_path is None


def test_recovery_lets_a_leftover_call_through_unrecorded(settings: Settings):
    """A channel left in the application by a crashed service goes on without recording."""
    call, commands = ConsentFlow(settings).recover(arrival())
    assert call.phase == Phase.HANDING_OFF
    assert call.record.consent == Consent.INTERRUPTED
    assert cmd.Answer() not in commands
    # Asterisk would hold the continue until a running announcement ends: stop any first.
    assert commands == [
        cmd.StopPlayback(playback_id="1795514341.6-p1"),
        cmd.StopPlayback(playback_id="1795514341.6-p2"),
        cmd.Subscribe(),
        cmd.Continue(context="callrec-unrecorded", recorded=False),
    ]


def test_a_refused_recording_continue_falls_back_to_unrecorded(settings: Settings):
    """If Asterisk refuses to send the call to the recording context, it is connected anyway."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = finish_prompt(flow, call)
    failed = commands[-1]
    call, commands = flow.handle(call, ev.CommandFailed(command=failed))
    assert commands[-1] == cmd.Continue(context="callrec-unrecorded", recorded=False)
    assert call.record.recording_status == RecordingStatus.FAILED
    assert call.record.recording_path is None
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(30)))
    assert call.phase == Phase.DONE
    assert commands == []


def test_a_failed_answer_connects_unrecorded(settings: Settings):
    """If the announcement cannot even start, the call still goes through."""
    flow = ConsentFlow(settings)
    call, commands = flow.start(arrival())
    call, commands = flow.handle(call, ev.CommandFailed(command=commands[0]))
    assert call.record.consent == Consent.INTERRUPTED
    assert commands[-1] == cmd.Continue(context="callrec-unrecorded", recorded=False)


def test_events_after_the_end_change_nothing(settings: Settings):
    """A late event for a finished call is ignored."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = flow.handle(call, ev.LeftStasis(at=at(3)))
    for late in (
        ev.DigitPressed(at=at(4), digit="9"),
        ev.ChannelEnded(at=at(5)),
        ev.AgentAnswered(at=at(6), agent="x"),
    ):
        after, commands = flow.handle(call, late)
        assert after == call
        assert commands == []


def test_a_bridged_call_without_audio_is_a_failed_recording(settings: Settings):
    """No file for a call an agent answered means MixMonitor failed, not an empty call."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12)))
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(13), agent="agent100"))
    call, _ = flow.handle(call, ev.ChannelEnded(at=at(20)))
    call, _ = flow.handle(call, ev.RecordingSettled(status=RecordingStatus.EMPTY))
    assert call.record.recording_status == RecordingStatus.FAILED


def test_a_call_nobody_answered_has_an_empty_recording(settings: Settings):
    """A consenting caller who hangs up while it rings leaves no audio; that is not a failure."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12)))
    call, _ = flow.handle(call, ev.ChannelEnded(at=at(20)))
    call, _ = flow.handle(call, ev.RecordingSettled(status=RecordingStatus.EMPTY))
    assert call.record.recording_status == RecordingStatus.EMPTY


def connected_record(settings: Settings):
    """The last snapshot of a recorded call that was connected when the service died."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12.1)))
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(14), agent="agent100"))
    return call.record


def test_an_adopted_call_still_up_is_followed_again(settings: Settings):
    """After a restart a live recorded call is subscribed to, and its end settles the file."""
    flow = ConsentFlow(settings)
    call, commands = flow.adopt(connected_record(settings), ended_at=None)
    assert call.phase == Phase.CONNECTED
    assert commands == [cmd.Subscribe()]
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(60)))
    assert call.phase == Phase.FINALISING
    assert isinstance(commands[0], cmd.AwaitRecording)


def test_an_adopted_call_that_ended_meanwhile_settles_its_recording(settings: Settings):
    """A call that ended while the service was down is ended and its recording measured."""
    flow = ConsentFlow(settings)
    record = connected_record(settings)
    call, commands = flow.adopt(record, ended_at=at(50))
    assert call.phase == Phase.FINALISING
    assert call.record.ended_at == at(50)
    # Its channel vanished unseen: the file is repaired first if Asterisk left it open.
    path = PurePosixPath(str(record.recording_path))
    assert commands == [cmd.AwaitRecording(path=path, lost=True)]


def test_an_adopted_call_gone_before_subscribing_is_ended(settings: Settings):
    """If the channel is gone by the time we subscribe, the call ends there."""
    flow = ConsentFlow(settings)
    call, _ = flow.adopt(connected_record(settings), ended_at=None)
    call, _ = flow.handle(call, ev.ChannelGone(at=at(30)))
    assert call.phase == Phase.FINALISING
    assert call.record.ended_at == at(30)


def test_a_call_left_mid_announcement_and_gone_counts_as_abandoned(settings: Settings):
    """A pending call found neither in the application nor alive hung up during the prompt."""
    flow = ConsentFlow(settings)
    pending, _ = flow.start(arrival())
    call, commands = flow.adopt(pending.record, ended_at=at(5))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.ABANDONED
    assert call.record.ended_at == at(5)
    assert commands == []

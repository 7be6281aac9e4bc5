"""Withdrawal during the call in the consent state machine (issue 11 §3), without any I/O."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Kind
from callrec_ari.evidence.statement import statement
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call, Phase
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.records import Consent, RecordingStatus
from tests.flow.conftest import example_settings
from tests.flow.test_states import arrival, at, finish_prompt

PATH = "2026/11/24/1795514341.6.wav"


def talking(flow: ConsentFlow) -> Call:
    """A recorded call, bridged with the agent since 13 s."""
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12.01)))
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(13), agent="agent100"))
    assert call.phase == Phase.CONNECTED
    return call


def test_the_recorded_call_offers_the_withdrawal_item_of_the_decline_key(tmp_path: Path):
    """The hand-off names the features.conf item of the configured key, * and # by name."""
    for key, item in (("9", "callrec-withdraw-9"), ("*", "callrec-withdraw-star")):
        flow = ConsentFlow(example_settings(tmp_path, decline_key=key))
        call, _ = flow.start(arrival())
        _, commands = finish_prompt(flow, call)
        [variables] = [c for c in commands if isinstance(c, cmd.SetVariables)]
        assert variables.variables["CALLREC_WITHDRAW_FEATURE"] == item


def test_without_a_decline_key_there_is_no_withdrawal_key(tmp_path: Path):
    """No decline key configured: no key withdraws either (the item is set empty, so a
    global of the same name in Asterisk cannot give the caller one)."""
    flow = ConsentFlow(example_settings(tmp_path, decline_key=""))
    call, _ = flow.start(arrival())
    _, commands = finish_prompt(flow, call)
    [variables] = [c for c in commands if isinstance(c, cmd.SetVariables)]
    assert variables.variables["CALLREC_WITHDRAW_FEATURE"] == ""


def test_withdrawal_marks_the_call_and_its_end_discards_the_recording(settings: Settings):
    """The key at 16 s: the row says withdrawn at 16 s at once; at the end the file is
    discarded, and the row keeps that it existed but nothing of the audio."""
    flow = ConsentFlow(settings)
    call, commands = flow.handle(talking(flow), ev.Withdrawn(at=at(16)))
    assert commands == []  # the dialplan has already stopped MixMonitor
    assert call.phase == Phase.CONNECTED  # the call goes on
    assert call.record.consent == Consent.WITHDRAWN
    assert call.record.withdrawn_at == at(16)
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(40)))
    assert call.phase == Phase.FINALISING
    assert commands == [cmd.AwaitRecording(path=PurePosixPath(PATH), discard=True)]
    call, commands = flow.handle(
        call, ev.RecordingSettled(status=RecordingStatus.DELETED, withdrawn_at=at(16.002))
    )
    assert commands == []
    assert call.phase == Phase.DONE
    record = call.record
    assert record.consent == Consent.WITHDRAWN
    assert record.withdrawn_at == at(16)  # the event's time; the marker's is the same moment
    assert record.recording_status == RecordingStatus.DELETED
    assert (record.recording_path, record.size_bytes, record.sha256) == (None, None, None)
    assert record.duration_seconds is None
    assert record.ended_at == at(40)
    assert record.answered_at == at(13)
    assert record.finished


def test_a_second_press_keeps_the_first_time(settings: Settings):
    """Pressing the key again changes nothing: the withdrawal happened at the first press."""
    flow = ConsentFlow(settings)
    call, _ = flow.handle(talking(flow), ev.Withdrawn(at=at(16)))
    call, _ = flow.handle(call, ev.Withdrawn(at=at(20)))
    assert call.record.withdrawn_at == at(16)


def test_a_withdrawal_the_service_missed_is_found_when_the_recording_settles(settings: Settings):
    """Down when the key was pressed, the service learns it from the marker at the end."""
    flow = ConsentFlow(settings)
    call, commands = flow.handle(talking(flow), ev.ChannelEnded(at=at(40)))
    assert commands == [cmd.AwaitRecording(path=PurePosixPath(PATH), discard=False)]
    call, _ = flow.handle(
        call, ev.RecordingSettled(status=RecordingStatus.DELETED, withdrawn_at=at(16))
    )
    assert call.record.consent == Consent.WITHDRAWN
    assert call.record.withdrawn_at == at(16)
    assert call.record.recording_status == RecordingStatus.DELETED


def test_an_adopted_withdrawn_call_that_ended_is_discarded(settings: Settings):
    """After a restart, a call whose last snapshot says withdrawn has its recording discarded."""
    flow = ConsentFlow(settings)
    withdrawn, _ = flow.handle(talking(flow), ev.Withdrawn(at=at(16)))
    call, commands = flow.adopt(withdrawn.record, ended_at=at(50))
    assert call.phase == Phase.FINALISING
    assert commands == [cmd.AwaitRecording(path=PurePosixPath(PATH), discard=True)]


def test_digits_in_the_conversation_are_not_a_decline(settings: Settings):
    """The decline key heard as a plain digit after the hand-off changes nothing: only the
    dialplan's withdrawal (the caller's own channel) counts, never a digit event."""
    flow = ConsentFlow(settings)
    call = talking(flow)
    after, commands = flow.handle(call, ev.DigitPressed(at=at(16), digit="9"))
    assert (after, commands) == (call, [])


def test_a_call_that_was_not_recorded_cannot_withdraw(settings: Settings):
    """A declined call has nothing to withdraw: it stays declined."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, _ = flow.handle(call, ev.DigitPressed(at=at(3), digit="9"))
    assert call.record.consent == Consent.DECLINED
    call, _ = flow.handle(call, ev.Continued(at=at(3.1)))
    call, _ = flow.handle(call, ev.Withdrawn(at=at(10)))
    assert call.record.consent == Consent.DECLINED
    assert call.record.withdrawn_at is None


def test_the_decline_key_during_the_announcement_still_declines(settings: Settings):
    """Before the hand-off the key keeps its meaning: decline, connected unrecorded."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival())
    call, commands = flow.handle(call, ev.DigitPressed(at=at(3), digit="9"))
    assert call.record.consent == Consent.DECLINED
    assert call.record.withdrawn_at is None
    assert cmd.Continue(context="callrec-unrecorded", recorded=False) in commands


def test_the_withdrawal_is_part_of_the_calls_consent_evidence(settings: Settings):
    """The statement an auditor reads says when the caller withdrew and that the recording
    was deleted, once, whether the service saw the key or only the marker."""
    flow = ConsentFlow(settings)
    seen, _ = flow.handle(talking(flow), ev.Withdrawn(at=at(16)))
    seen, _ = flow.handle(seen, ev.Withdrawn(at=at(17)))
    missed = talking(flow)
    for talked in (seen, missed):
        ended, _ = flow.handle(talked, ev.ChannelEnded(at=at(40)))
        call, _ = flow.handle(
            ended, ev.RecordingSettled(status=RecordingStatus.DELETED, withdrawn_at=at(16))
        )
        assert [f.at for f in call.record.evidence if f.kind == Kind.WITHDRAWN] == [at(16)]
        text = "\n".join(statement(call.record))
        assert "the caller pressed the withdrawal key during the conversation" in text
        assert "Outcome: consent given, then withdrawn by the caller during the call" in text

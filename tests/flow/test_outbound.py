"""The outbound consent flow, driven directly without any I/O (seed 004)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from callrec_ari.config import Settings, parse
from callrec_ari.evidence.facts import Kind
from callrec_ari.evidence.statement import statement
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call, Phase
from callrec_ari.flow.outbound import OutboundFlow
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.lifecycle.retention import add_months
from callrec_ari.records import Consent, Direction, RecordingStatus
from tests.flow.conftest import EXAMPLE

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CALLEE = "0040211234567"
RECORD = "callrec-outbound-record"
UNRECORDED = "callrec-outbound-unrecorded"
END = "callrec-outbound-end"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def outbound_settings(tmp_path: Path, **route: Any) -> Settings:
    """The example config with outbound consent on for Romanian numbers (ro, then en)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "rec")}
    data["outbound"] = {"enabled": True}
    data["outbound_route"] = [
        {
            "prefixes": ["0040"],
            "languages": ["ro", "en"],
            "retention": "months-3",
            "timeout_seconds": 8,
            **route,
        }
    ]
    return parse(data, {}, base_dir=tmp_path)


@pytest.fixture
def flow(tmp_path: Path) -> OutboundFlow:
    """Outbound consent on; callees who do not agree are connected unrecorded."""
    return OutboundFlow(ConsentFlow(outbound_settings(tmp_path)))


def answered(number: str = CALLEE) -> ev.CallArrived:
    """The callee of agent100's call answered and entered the consent step."""
    return ev.CallArrived(
        at=T0,
        channel_id="1795600000.12",
        linkedid="1795600000.11",
        caller_number=number,
        dialled_number=number,
        outbound=True,
        agent="agent100",
    )


def finish_prompt(flow: OutboundFlow, call: Call, seconds: float) -> tuple[Call, list[Any]]:
    assert call.playback_id is not None
    return flow.handle(
        call, ev.PromptFinished(at=at(seconds), playback_id=call.playback_id, failed=False)
    )


def announced(flow: OutboundFlow) -> tuple[Call, list[Any]]:
    """The callee heard the announcement in both languages; the flow waits for a key."""
    call, _ = flow.start(answered())
    call, _ = finish_prompt(flow, call, 6)
    return finish_prompt(flow, call, 12)


def continued_to(commands: list[Any]) -> str:
    [go] = [c for c in commands if isinstance(c, cmd.Continue)]
    return go.context


def test_the_callee_hears_the_outbound_announcement_in_each_language_of_the_route(
    flow: OutboundFlow,
):
    """No Answer (the callee already did); the announcement plays in Romanian, then English."""
    call, commands = flow.start(answered())
    assert call.phase == Phase.ANNOUNCING
    [play] = commands
    assert isinstance(play, cmd.Play)
    assert play.language == "ro"
    assert play.media == ("sound:callrec/outbound-announcement",)
    call, commands = finish_prompt(flow, call, 6)
    [play] = commands
    assert isinstance(play, cmd.Play)
    assert play.language == "en"
    assert call.record.direction == Direction.OUTBOUND
    assert call.record.consent == Consent.PENDING


def test_the_row_names_the_callee_as_data_subject_and_the_staff_phone_as_agent(
    flow: OutboundFlow,
):
    """Rights requests find outbound calls by the callee's number; retention is the route's."""
    call, _ = flow.start(answered())
    assert call.record.caller_number == CALLEE
    assert call.record.caller_e164 == "+40211234567"
    assert call.record.dialled_number == CALLEE
    assert call.record.agent == "agent100"
    assert call.record.linkedid == "1795600000.11"
    assert call.record.retention_policy == "months-3"
    assert call.record.delete_after == add_months(T0, 3)  # the route's policy: 3 calendar months


def test_after_the_announcement_the_flow_waits_for_the_key_with_a_timer(flow: OutboundFlow):
    """The end of the last announcement starts the route's timeout."""
    call, commands = announced(flow)
    assert call.phase == Phase.AWAITING_KEY
    assert commands == [cmd.StartTimer(seconds=8)]


def test_the_agree_key_starts_the_recording(flow: OutboundFlow):
    """Pressing 1 after the announcement is consent: MixMonitor's context, with a file path."""
    call, _ = announced(flow)
    call, commands = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    assert call.record.consent == Consent.GIVEN
    assert call.record.recording_status == RecordingStatus.RECORDING
    assert call.record.recording_path == "2026/12/02/1795600000.12.wav"
    assert commands == [
        cmd.SetVariables(
            variables={
                "CALLREC_FILE": "/srv/rec/2026/12/02/1795600000.12.wav",
                "CALLREC_WITHDRAW_FEATURE": "callrec-withdraw-9",
            }
        ),
        cmd.Subscribe(),
        cmd.Continue(context=RECORD, recorded=True),
    ]


def test_the_agree_key_before_the_announcement_ended_is_not_consent(flow: OutboundFlow):
    """A callee who has not heard the whole notice cannot agree to it yet: the key is ignored."""
    call, _ = flow.start(answered())
    after, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="1"))
    assert commands == []
    assert after.record.consent == Consent.PENDING
    assert after.phase == Phase.ANNOUNCING


def test_another_key_connects_unrecorded_at_once_even_mid_announcement(flow: OutboundFlow):
    """Any other key refuses: the announcement stops and the call goes on unrecorded."""
    call, _ = flow.start(answered())
    playing = call.playback_id
    call, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="5"))
    assert call.record.consent == Consent.DECLINED
    assert call.record.recording_status == RecordingStatus.NONE
    assert commands[0] == cmd.StopPlayback(playback_id=str(playing))
    assert continued_to(commands) == UNRECORDED


def test_no_key_within_the_timeout_connects_unrecorded(flow: OutboundFlow):
    """The timer runs out: consent no_response, connected, nothing recorded."""
    call, _ = announced(flow)
    call, commands = flow.handle(call, ev.KeyTimeout(at=at(20)))
    assert call.record.consent == Consent.NO_RESPONSE
    assert call.record.recording_path is None
    assert continued_to(commands) == UNRECORDED


def test_a_route_that_hangs_up_ends_the_call_on_a_timeout_or_another_key(tmp_path: Path):
    """on_no_consent = "hangup": both refusals go to the context that ends the call."""
    flow = OutboundFlow(ConsentFlow(outbound_settings(tmp_path, on_no_consent="hangup")))
    call, _ = announced(flow)
    _, commands = flow.handle(call, ev.KeyTimeout(at=at(20)))
    assert continued_to(commands) == END
    _, commands = flow.handle(call, ev.DigitPressed(at=at(14), digit="#"))
    assert continued_to(commands) == END


def test_a_late_timeout_changes_nothing(flow: OutboundFlow):
    """A timer that fires after the callee agreed is ignored."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    after, commands = flow.handle(call, ev.KeyTimeout(at=at(20)))
    assert (after, commands) == (call, [])


def test_a_callee_who_hangs_up_during_the_announcement_is_abandoned(flow: OutboundFlow):
    """Nothing recorded, the call ended, consent abandoned."""
    call, _ = flow.start(answered())
    call, commands = flow.handle(call, ev.LeftStasis(at=at(3)))
    assert commands == []
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.ABANDONED
    assert call.record.ended_at == at(3)
    assert call.record.recording_status == RecordingStatus.NONE


def test_a_callee_who_hangs_up_while_asked_for_the_key_is_abandoned(flow: OutboundFlow):
    """Hanging up instead of pressing a key is no consent."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.ChannelEnded(at=at(15)))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.ABANDONED


def test_a_callee_hanging_up_ends_the_consent_step_before_the_cut_playback_reports(
    flow: OutboundFlow,
):
    """The hang-up request comes ahead of the playback it cuts: abandoned at once, and the
    playback's end (failed, or done as if heard) asks for nothing."""
    for waiting in ("announcing", "awaiting_key"):
        call, _ = flow.start(answered()) if waiting == "announcing" else announced(flow)
        playback = call.playback_id or "gone"
        call, commands = flow.handle(call, ev.HangUpRequested(at=at(15)))
        assert commands == []
        assert call.phase == Phase.DONE
        assert call.record.consent == Consent.ABANDONED
        assert call.record.ended_at == at(15)
        after, commands = flow.handle(
            call, ev.PromptFinished(at=at(15.01), playback_id=playback, failed=True)
        )
        assert (after, commands) == (call, [])


def test_the_service_stopping_mid_announcement_connects_unrecorded_even_on_a_hangup_route(
    tmp_path: Path,
):
    """Fail-open: a failure on callrec's side never ends the staff member's call."""
    flow = OutboundFlow(ConsentFlow(outbound_settings(tmp_path, on_no_consent="hangup")))
    call, _ = flow.start(answered())
    call, commands = flow.handle(call, ev.Interrupted(at=at(2)))
    assert call.record.consent == Consent.INTERRUPTED
    assert continued_to(commands) == UNRECORDED


def test_a_prompt_that_fails_to_play_is_never_consent(flow: OutboundFlow):
    """The callee was not told: connected unrecorded, whatever they press afterwards."""
    call, _ = flow.start(answered())
    assert call.playback_id is not None
    call, commands = flow.handle(
        call, ev.PromptFinished(at=at(1), playback_id=call.playback_id, failed=True)
    )
    assert call.record.consent == Consent.INTERRUPTED
    assert continued_to(commands) == UNRECORDED
    after, commands = flow.handle(call, ev.DigitPressed(at=at(2), digit="1"))
    assert commands == []
    assert after.record.consent == Consent.INTERRUPTED


def test_a_recording_that_cannot_start_still_connects(flow: OutboundFlow):
    """If Asterisk refuses to set the file, the call goes on unrecorded and says so."""
    call, _ = announced(flow)
    call, commands = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    failed = ev.CommandFailed(command=commands[0])
    call, commands = flow.handle(call, failed)
    assert call.record.consent == Consent.GIVEN
    assert call.record.recording_status == RecordingStatus.FAILED
    assert continued_to(commands) == UNRECORDED


def test_an_agreed_call_is_settled_like_an_inbound_one(flow: OutboundFlow):
    """After the hand-off the common flow ends the call and measures the recording."""
    call, _ = announced(flow)
    call, commands = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    call, _ = flow.handle(call, ev.Continued(at=at(14.1)))
    assert call.phase == Phase.CONNECTED
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(60)))
    assert call.phase == Phase.FINALISING
    assert isinstance(commands[0], cmd.AwaitRecording)
    call, _ = flow.handle(
        call,
        ev.RecordingSettled(
            status=RecordingStatus.COMPLETE, duration_seconds=45.5, size_bytes=728_044, sha256="a"
        ),
    )
    assert call.phase == Phase.DONE
    assert call.record.recording_status == RecordingStatus.COMPLETE
    assert call.record.ended_at == at(60)


def test_with_outbound_off_the_call_goes_through_and_leaves_no_row(tmp_path: Path):
    """Seed 000: staff calls are never recorded; callrec only lets the call through."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "rec")}
    flow = OutboundFlow(ConsentFlow(parse(data, {}, base_dir=tmp_path)))
    call, commands = flow.start(answered())
    assert call.stored is False
    assert call.phase == Phase.DONE
    assert commands == [cmd.Continue(context=UNRECORDED, recorded=False)]


def test_a_number_no_route_covers_goes_through_unrecorded(flow: OutboundFlow):
    """Outbound on, but a Polish number has no route: let through, no row."""
    call, commands = flow.start(answered("0048221234567"))
    assert call.stored is False
    assert commands == [cmd.Continue(context=UNRECORDED, recorded=False)]


def test_a_callee_left_by_a_crashed_service_is_let_through_unrecorded(flow: OutboundFlow):
    """Recovery stops every playback the crashed run may have started, then connects."""
    call, commands = flow.recover(answered())
    assert call.record.consent == Consent.INTERRUPTED
    stops = [c.playback_id for c in commands if isinstance(c, cmd.StopPlayback)]
    assert stops == ["1795600000.12-p1", "1795600000.12-p2", "1795600000.12-p3"]
    assert continued_to(commands) == UNRECORDED


def test_an_agreed_call_keeps_the_same_evidence_as_an_inbound_one(flow: OutboundFlow):
    """The key asked for, each language heard to its end, the key pressed and when recording
    started; the statement says consent was given with the agree key."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    call, _ = flow.handle(call, ev.Continued(at=at(14.1)))
    kinds = [fact.kind for fact in call.record.evidence]
    assert kinds == [
        Kind.AGREE_OFFERED,
        Kind.HEARD,
        Kind.HEARD,
        Kind.PRESSED,
        Kind.ENDED,
        Kind.RECORDING,
    ]
    assert call.record.languages_played == ("ro", "en")
    text = "\n".join(statement(call.record))
    assert "the callee was asked to press 1 to agree" in text
    assert "At 10:00:14 the caller pressed 1." in text
    assert "Outcome: consent given by pressing the agree key." in text


def test_a_callee_who_stays_silent_is_proved_to_have_heard_the_announcement(
    flow: OutboundFlow,
):
    """The line was still up when the timer ran out: both languages count as heard, and the
    statement says no key came in time."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.KeyTimeout(at=at(20)))
    call, _ = flow.handle(call, ev.Continued(at=at(20.1)))
    assert call.record.languages_played == ("ro", "en")
    text = "\n".join(statement(call.record))
    assert "At 10:00:20 no key had been pressed in the time allowed." in text
    assert "Outcome: the callee pressed no key in the time allowed" in text


def test_a_callee_who_hangs_up_as_the_announcement_ends_heard_nothing_provable(
    flow: OutboundFlow,
):
    """A hang-up also ends the playback: the last language is not evidence of being heard."""
    call, _ = flow.start(answered())
    call, _ = finish_prompt(flow, call, 6)
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.LeftStasis(at=at(12.01)))
    assert call.record.languages_played == ("ro",)
    assert call.record.evidence[-1].kind == Kind.HUNG_UP


def talking(flow: OutboundFlow) -> Call:
    """An agreed call, bridged with the staff phone since 14.1 s."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
    call, _ = flow.handle(call, ev.Continued(at=at(14.1)))
    assert call.phase == Phase.CONNECTED
    return call


def test_the_agreed_call_hands_the_callee_the_withdrawal_key_of_the_decline_key(tmp_path: Path):
    """The hand-off names the features.conf item of [consent] decline_key, as an inbound
    call's does; with no decline key configured no key withdraws."""
    for key, item in (("9", "callrec-withdraw-9"), ("#", "callrec-withdraw-pound"), ("", "")):
        settings = outbound_settings(tmp_path)
        consent = replace(settings.consent, decline_key=key or None)
        flow = OutboundFlow(ConsentFlow(replace(settings, consent=consent)))
        call, _ = announced(flow)
        _, commands = flow.handle(call, ev.DigitPressed(at=at(14), digit="1"))
        [variables] = [c for c in commands if isinstance(c, cmd.SetVariables)]
        assert variables.variables.get("CALLREC_WITHDRAW_FEATURE") == item


def test_a_callee_who_withdraws_mid_call_is_withdrawn_and_the_recording_discarded(
    flow: OutboundFlow,
):
    """The callee's key 3 s into the talk: the row says withdrawn at once, the end of the call
    discards the file, and the statement says the callee took back the consent they gave."""
    call, _ = flow.handle(talking(flow), ev.Withdrawn(at=at(17.1)))
    assert call.record.consent == Consent.WITHDRAWN
    assert call.record.withdrawn_at == at(17.1)
    assert call.phase == Phase.CONNECTED  # the call goes on
    call, commands = flow.handle(call, ev.ChannelEnded(at=at(40)))
    assert call.phase == Phase.FINALISING
    assert commands == [
        cmd.AwaitRecording(path=PurePosixPath("2026/12/02/1795600000.12.wav"), discard=True)
    ]
    call, _ = flow.handle(
        call, ev.RecordingSettled(status=RecordingStatus.DELETED, withdrawn_at=at(17.1))
    )
    record = call.record
    assert call.phase == Phase.DONE
    assert record.direction == Direction.OUTBOUND
    assert (record.consent, record.withdrawn_at, record.ended_at) == (
        Consent.WITHDRAWN,
        at(17.1),
        at(40),
    )
    assert record.recording_status == RecordingStatus.DELETED
    assert (record.recording_path, record.sha256, record.size_bytes) == (None, None, None)
    assert [f.at for f in record.evidence if f.kind == Kind.WITHDRAWN] == [at(17.1)]
    text = "\n".join(statement(record))
    assert "At 10:00:17 the caller pressed the withdrawal key during the conversation" in text
    assert "Outcome: consent given by pressing the agree key, then withdrawn by the callee" in text


def test_a_callee_who_refused_has_nothing_to_withdraw(flow: OutboundFlow):
    """A withdrawal event on a call connected unrecorded changes nothing: it stays declined."""
    call, _ = announced(flow)
    call, _ = flow.handle(call, ev.DigitPressed(at=at(14), digit="5"))
    call, _ = flow.handle(call, ev.Continued(at=at(14.1)))
    after, commands = flow.handle(call, ev.Withdrawn(at=at(18)))
    assert (after, commands) == (call, [])
    assert after.record.consent == Consent.DECLINED


def test_an_overloaded_service_connects_the_callee_at_once_unrecorded(flow: OutboundFlow):
    """Overload on an outbound call: no announcement, the callee and the staff phone are
    connected unrecorded at once, the row says overloaded and why."""
    call, commands = flow.overloaded(answered(), "callrec was overloaded (loop_lag)")
    assert call.record.consent == Consent.OVERLOADED
    assert call.record.recording_status == RecordingStatus.NONE
    assert not any(isinstance(c, cmd.Play) for c in commands)
    assert continued_to(commands) == UNRECORDED
    assert [fact.note for fact in call.record.evidence] == ["callrec was overloaded (loop_lag)"]


def test_an_overloaded_inbound_call_hears_nothing_and_goes_on_unrecorded(tmp_path: Path):
    """Overload on an inbound call: no answer, no announcement, continued unrecorded, and the
    evidence holds only the reason (nothing was offered)."""
    settings = parse(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")), {}, base_dir=tmp_path)
    arrival = replace(answered(), outbound=False, agent=None, dialled_number="5551000")
    call, commands = ConsentFlow(settings).overloaded(arrival, "overloaded: event_delay")
    assert call.record.consent == Consent.OVERLOADED
    assert call.record.direction == Direction.INBOUND
    assert [type(c) for c in commands] == [cmd.Subscribe, cmd.Continue]
    assert continued_to(commands) == settings.dialplan.unrecorded_context
    assert [fact.kind for fact in call.record.evidence] == [Kind.NOTE]

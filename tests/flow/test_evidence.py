"""The consent evidence the flow keeps on each call: what was heard to its end, keys, hand-off."""

from __future__ import annotations

from pathlib import Path

from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.prompts.versions import Current, PromptVersions
from callrec_ari.records import Consent
from tests.flow.conftest import example_settings
from tests.flow.test_states import arrival, at, finish_prompt

SHA_PL = "a" * 64
SHA_HINT = "b" * 64
SHA_FI = "c" * 64
SHA_SV = "d" * 64


def versions() -> PromptVersions:
    """The installed prompts' versions as the service would have loaded them."""
    return PromptVersions(
        {
            ("announcement", "pl"): Current(version=3, sha256=SHA_PL),
            ("decline-hint", "pl"): Current(version=1, sha256=SHA_HINT),
            ("announcement", "fi"): Current(version=2, sha256=SHA_FI),
            ("announcement", "sv"): Current(version=5, sha256=SHA_SV),
        }
    )


def kinds(call: Call) -> list[Kind]:
    """The kinds of the call's facts, in order."""
    return [fact.kind for fact in call.record.evidence]


def test_staying_on_names_the_exact_audio_heard_and_when_recording_started(settings: Settings):
    """A caller who stays on has each prompt's version and hash, the end and the hand-off."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.Continued(at=at(12.5)))
    assert call.record.consent == Consent.GIVEN
    assert call.record.evidence == (
        Fact(kind=Kind.OFFERED, at=at(0), digit="9"),
        Fact(
            kind=Kind.HEARD,
            at=at(12),
            language="pl",
            prompts=(
                PromptHeard(name="announcement", language="pl", version=3, sha256=SHA_PL),
                PromptHeard(name="decline-hint", language="pl", version=1, sha256=SHA_HINT),
            ),
        ),
        Fact(kind=Kind.ENDED, at=at(12)),
        Fact(kind=Kind.RECORDING, at=at(12.5)),
    )
    assert call.record.languages_played == ("pl",)


def test_declining_keeps_the_key_and_when_it_was_pressed(settings: Settings):
    """Pressing the decline key mid-announcement: offered 9, pressed 9, connected unrecorded."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = flow.handle(call, ev.DigitPressed(at=at(3), digit="9"))
    call, _ = flow.handle(call, ev.Continued(at=at(3.2)))
    assert call.record.consent == Consent.DECLINED
    assert kinds(call) == [Kind.OFFERED, Kind.PRESSED, Kind.UNRECORDED]
    assert call.record.evidence[1] == Fact(kind=Kind.PRESSED, at=at(3), digit="9")
    assert call.record.languages_played == ()


def test_other_keys_are_kept_with_their_time(settings: Settings):
    """A key that is not the decline key is evidence too, and changes nothing else."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = flow.handle(call, ev.DigitPressed(at=at(2), digit="1"))
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.Continued(at=at(12.1)))
    assert call.record.consent == Consent.GIVEN
    assert Fact(kind=Kind.PRESSED, at=at(2), digit="1") in call.record.evidence


def test_hanging_up_mid_announcement_heard_nothing(settings: Settings):
    """A caller gone during the only announcement heard nothing to its end."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(5)))
    assert call.record.consent == Consent.ABANDONED
    assert kinds(call) == [Kind.OFFERED, Kind.HUNG_UP]
    assert call.record.languages_played == ()


def test_a_playback_ended_by_the_hang_up_is_not_evidence_of_hearing(settings: Settings):
    """Hanging up also ends a playback: with the continue refused, it does not count as heard."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = finish_prompt(flow, call, 4)
    call, _ = flow.handle(call, ev.ChannelGone(at=at(4.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(4.02)))
    assert call.record.consent == Consent.ABANDONED
    assert kinds(call) == [Kind.OFFERED, Kind.HUNG_UP]
    assert call.record.languages_played == ()


def test_two_languages_hang_up_during_the_second_played_only_the_first(settings: Settings):
    """Finnish then Swedish, gone during Swedish: languages played is Finnish only."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5552000"))
    assert call.record.languages == ("fi", "sv")
    call, commands = finish_prompt(flow, call, 10)
    assert isinstance(commands[0], cmd.Play)
    assert commands[0].language == "sv"
    # The hang-up during Swedish ends its playback too, then the continue is refused.
    call, _ = finish_prompt(flow, call, 14)
    call, _ = flow.handle(call, ev.ChannelGone(at=at(14.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(14.02)))
    assert call.record.consent == Consent.ABANDONED
    assert call.record.languages_played == ("fi",)
    heard = [fact for fact in call.record.evidence if fact.kind == Kind.HEARD]
    assert [fact.prompts[0].sha256 for fact in heard] == [SHA_FI]
    assert heard[0].at == at(10)


def test_two_languages_both_heard_when_the_caller_stays(settings: Settings):
    """Both announcements count once the continue shows the caller was still there."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5552000"))
    call, _ = finish_prompt(flow, call, 10)
    call, _ = finish_prompt(flow, call, 20)
    call, _ = flow.handle(call, ev.Continued(at=at(20.3)))
    assert call.record.languages_played == ("fi", "sv")
    assert kinds(call)[-2:] == [Kind.ENDED, Kind.RECORDING]


def test_a_failed_playback_is_kept_as_such_and_not_as_heard(settings: Settings):
    """A playback Asterisk reports failed is evidence of not being told, not of hearing."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = flow.handle(
        call, ev.PromptFinished(at=at(1), playback_id=call.playback_id or "", failed=True)
    )
    call, _ = flow.handle(call, ev.Continued(at=at(1.1)))
    assert call.record.consent == Consent.INTERRUPTED
    assert kinds(call) == [Kind.OFFERED, Kind.FAILED, Kind.NOTE, Kind.UNRECORDED]
    assert call.record.evidence[1].prompts[0].sha256 == SHA_PL
    assert call.record.languages_played == ()


def test_a_prompt_without_a_known_version_is_named_without_one(settings: Settings):
    """Before the service knows a file's version, the evidence says so instead of guessing."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(arrival("5551000"))
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.Continued(at=at(12.1)))
    heard = call.record.evidence[1]
    assert heard.prompts[0] == PromptHeard(
        name="announcement", language="pl", version=None, sha256=None
    )


def test_declining_in_hangup_mode_keeps_the_decline_prompt_played(tmp_path: Path):
    """On a hang-up line the decline prompt's playing is kept, and no hang-up by the caller."""
    flow = ConsentFlow(example_settings(tmp_path), versions())
    call, _ = flow.start(arrival("5554000"))
    call, _ = flow.handle(call, ev.DigitPressed(at=at(2), digit="9"))
    call, _ = finish_prompt(flow, call, 5)
    call, _ = flow.handle(call, ev.LeftStasis(at=at(5.1)))
    assert call.record.consent == Consent.DECLINED
    assert kinds(call) == [Kind.OFFERED, Kind.PRESSED, Kind.PLAYED]
    assert call.record.evidence[-1].prompts[0].name == "declined"


def test_a_recovered_call_says_no_announcement_was_followed(settings: Settings):
    """A call found after a restart is let through with evidence saying what happened."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.recover(arrival("5551000"))
    assert call.record.consent == Consent.INTERRUPTED
    assert kinds(call) == [Kind.NOTE]
    assert "restarted" in (call.record.evidence[0].note or "")


def test_a_listed_number_gets_no_decline_key_offered(settings: Settings):
    """On the do-not-record list no key is offered, and the evidence says why."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(
        ev.CallArrived(
            at=at(0),
            channel_id="1795514341.6",
            linkedid="1795514341.6",
            caller_number="48221234567",
            dialled_number="5551000",
            do_not_record=True,
        )
    )
    assert call.record.evidence[0] == Fact(kind=Kind.OFFERED, at=at(0))
    assert call.record.evidence[1].kind == Kind.NOTE


def test_a_key_between_the_announcement_and_the_hand_off_keeps_the_end(settings: Settings):
    """A key pressed after the last announcement ended still leaves its end in the evidence."""
    flow = ConsentFlow(settings, versions())
    call, _ = flow.start(arrival("5551000"))
    call, _ = finish_prompt(flow, call, 12)
    call, _ = flow.handle(call, ev.DigitPressed(at=at(12.1), digit="1"))
    call, _ = flow.handle(call, ev.Continued(at=at(12.3)))
    assert kinds(call) == [Kind.OFFERED, Kind.HEARD, Kind.PRESSED, Kind.ENDED, Kind.RECORDING]
    assert call.record.evidence[3] == Fact(kind=Kind.ENDED, at=at(12))

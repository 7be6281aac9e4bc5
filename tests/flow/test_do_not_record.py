"""Callers on the do-not-record list: the flow connects them unrecorded; the list is in memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from structlog.testing import capture_logs

from callrec_ari.config import Settings
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Phase
from callrec_ari.flow.do_not_record import DoNotRecordList
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.records import Consent, RecordingStatus
from tests.flow.conftest import example_settings
from tests.flow.test_states import arrival, at, finish_prompt


def listed(did: str = "5552000") -> ev.CallArrived:
    return dataclasses.replace(arrival(did), do_not_record=True)


def test_a_listed_caller_hears_the_notice_in_each_language_then_is_connected_unrecorded(
    settings: Settings,
):
    """The short notice replaces the announcement; after it the call goes on, unrecorded."""
    flow = ConsentFlow(settings)
    call, commands = flow.start(listed("5552000"))
    assert call.record.consent == Consent.OPTED_OUT
    plays = [c for c in commands if isinstance(c, cmd.Play)]
    assert [(p.language, p.media) for p in plays] == [("fi", ("sound:callrec/not-recorded",))]
    call, commands = finish_prompt(flow, call, 5)
    assert [c.language for c in commands if isinstance(c, cmd.Play)] == ["sv"]
    call, commands = finish_prompt(flow, call, 10)
    assert call.phase == Phase.HANDING_OFF
    [cont] = [c for c in commands if isinstance(c, cmd.Continue)]
    assert cont.recorded is False
    assert cont.context == "callrec-unrecorded"
    assert not any(isinstance(c, cmd.SetVariables) for c in commands)
    call, _ = flow.handle(call, ev.Continued(at=at(10.1)))
    assert call.phase == Phase.CONNECTED
    assert call.record.recording_status == RecordingStatus.NONE
    assert call.record.consent == Consent.OPTED_OUT


def test_silent_mode_connects_at_once_without_answering(tmp_path: Path):
    """With do_not_record = "silent" nothing is played: the call goes straight on."""
    flow = ConsentFlow(example_settings(tmp_path, do_not_record="silent"))
    call, commands = flow.start(listed())
    assert call.phase == Phase.HANDING_OFF
    assert not any(isinstance(c, (cmd.Play, cmd.Answer)) for c in commands)
    assert any(isinstance(c, cmd.Continue) and not c.recorded for c in commands)
    assert call.record.consent == Consent.OPTED_OUT


def test_the_decline_key_changes_nothing_for_a_listed_caller(settings: Settings):
    """There is nothing to refuse: pressing 9 during the notice is ignored."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(listed("5551000"))
    after, commands = flow.handle(call, ev.DigitPressed(at=at(1), digit="9"))
    assert commands == []
    assert after.record.consent == Consent.OPTED_OUT
    assert after.phase == call.phase
    assert after.record.evidence[-1].digit == "9"  # kept as evidence, nothing more


def test_hanging_up_during_the_notice_keeps_the_opt_out(settings: Settings):
    """The row says why the call was not recorded, not that the caller abandoned it."""
    flow = ConsentFlow(settings)
    call, _ = flow.start(listed("5551000"))
    call, _ = flow.handle(call, ev.ChannelEnded(at=at(2)))
    assert call.phase == Phase.DONE
    assert call.record.consent == Consent.OPTED_OUT


def test_the_list_matches_a_number_however_the_network_spelt_it(tmp_path: Path):
    """+48..., 0048..., 48... and the national form all match the listed E.164 number."""
    numbers = DoNotRecordList("PL", tmp_path / "dnr.json")
    assert not numbers.matches("48221000001")
    numbers.replace({"+48221000001"})
    for spelling in ("+48221000001", "0048221000001", "48221000001", "221000001"):
        assert numbers.matches(spelling), spelling
    assert not numbers.matches("48221000002")
    assert not numbers.matches(None)
    assert not numbers.matches("anonymous")


def test_the_list_survives_a_restart_through_its_cache_file(tmp_path: Path):
    """The saved copy is what a restarted service honours while the database is down."""
    numbers = DoNotRecordList("PL", tmp_path / "dnr.json")
    numbers.replace({"+48221000001"})
    numbers.save()
    restarted = DoNotRecordList("PL", tmp_path / "dnr.json")
    restarted.load()
    assert restarted.matches("48221000001")


def test_a_damaged_cache_file_is_logged_and_ignored(tmp_path: Path):
    """A cache that is not a JSON list of numbers leaves the list empty and says so."""
    (tmp_path / "dnr.json").write_text('{"not": "a list"}')
    numbers = DoNotRecordList("PL", tmp_path / "dnr.json")
    with capture_logs() as logs:
        numbers.load()
    assert len(numbers) == 0
    assert [log["event"] for log in logs] == ["do_not_record.cache_unreadable"]

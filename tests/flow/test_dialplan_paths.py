"""The dialplan names the recording itself: Asterisk's globals checked, one request spared."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.config import Settings
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.arrival import arrival_from, dialplan_start
from callrec_ari.flow.call import Step
from callrec_ari.flow.controller import CallController
from callrec_ari.flow.dialplan_paths import DialplanPaths, expected_globals, mismatched
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.recording.finalise import settle
from callrec_ari.records import CallRecord, RecordingStatus
from tests.flow.conftest import example_settings

# 23:59:59.9 UTC: the dialplan saw the call arrive on the 24th, the StasisStart is the 25th.
START = "1795564799.900"
T0 = datetime(2026, 11, 25, 0, 0, 0, 200_000, tzinfo=UTC)
CHANNEL = "1795564799.31"


def channel() -> ari.Channel:
    return ari.Channel(
        id=CHANNEL,
        name="PJSIP/trunk-0000001f",
        state="Ring",
        caller_number="48221234567",
        context="callrec-consent",
        app_data=f"callrec,5551000,{CHANNEL},{START}",
        created=T0,
    )


def arrival(start: str = START) -> ev.CallArrived:
    return arrival_from(channel(), ("5551000", CHANNEL, start), T0)


def finish_prompt(flow: ConsentFlow, call_commands: Step) -> Step:
    call, _ = call_commands
    return flow.handle(call, ev.PromptFinished(at=T0, playback_id=call.playback_id, failed=False))


def test_the_dialplans_start_is_read_from_the_stasis_arguments():
    """The fourth Stasis() argument is CALLREC_START; a malformed or far-off one is ignored."""
    assert arrival().dialplan_start == datetime(2026, 11, 24, 23, 59, 59, 900_000, tzinfo=UTC)
    assert arrival("not-a-time").dialplan_start is None
    assert arrival("1795564799.9;rm").dialplan_start is None
    assert dialplan_start(str(T0.timestamp() - 7200), T0) is None  # two hours off
    assert arrival_from(channel(), ("5551000", CHANNEL), T0).dialplan_start is None


def test_with_the_dialplans_start_the_hand_off_is_a_single_continue(tmp_path: Path):
    """The file is named after the day the dialplan saw the call (its own formula), so no
    variable is set: after the announcement only the continue goes to Asterisk."""
    flow = ConsentFlow(example_settings(tmp_path))
    call, commands = flow.start(arrival())
    assert commands[0] == cmd.Answer()
    assert commands[-1] == cmd.Subscribe()
    call, commands = finish_prompt(flow, (call, commands))
    assert commands == [cmd.Continue(context="callrec-record", recorded=True)]
    assert call.record.recording_path == f"2026/11/24/{CHANNEL}.wav"
    assert call.record.recording_status == RecordingStatus.RECORDING


def test_without_it_the_variables_are_set_as_before(tmp_path: Path):
    """No start from the dialplan (an older dialplan, or globals that differ): CALLREC_FILE
    and the withdrawal item go to the channel, dated by the StasisStart."""
    flow = ConsentFlow(example_settings(tmp_path))
    call, commands = finish_prompt(flow, flow.start(replace(arrival(), dialplan_start=None)))
    assert commands == [
        cmd.SetVariables(
            variables={
                "CALLREC_FILE": f"/srv/rec/2026/11/25/{CHANNEL}.wav",
                "CALLREC_WITHDRAW_FEATURE": "callrec-withdraw-9",
            }
        ),
        cmd.Continue(context="callrec-record", recorded=True),
    ]
    assert call.record.recording_path == f"2026/11/25/{CHANNEL}.wav"


def test_an_id_unfit_for_a_file_name_still_gets_its_variables(tmp_path: Path):
    """The dialplan would use the raw id; callrec names such a file by its hash, so it says so."""
    flow = ConsentFlow(example_settings(tmp_path))
    odd = replace(arrival(), channel_id="pbx b/1795564799.31")
    _, commands = finish_prompt(flow, flow.start(odd))
    assert isinstance(commands[0], cmd.SetVariables)


def test_a_subscription_that_failed_is_asked_again_at_the_hand_off(tmp_path: Path):
    """The channel must be followed past the consent step, or its end goes unseen."""
    flow = ConsentFlow(example_settings(tmp_path))
    call, _ = flow.start(arrival())
    call, _ = flow.handle(call, ev.CommandFailed(command=cmd.Subscribe(), at=T0))
    _, commands = finish_prompt(flow, (call, []))
    assert commands == [cmd.Subscribe(), cmd.Continue(context="callrec-record", recorded=True)]


def test_a_failed_play_connects_with_a_subscription(tmp_path: Path):
    """A failure ends its batch, so start()'s Subscribe was never sent: the connect asks it."""
    flow = ConsentFlow(example_settings(tmp_path))
    call, commands = flow.start(arrival())
    [play] = [c for c in commands if isinstance(c, cmd.Play)]
    _, commands = flow.handle(call, ev.CommandFailed(command=play, at=T0))
    assert commands[-2:] == [
        cmd.Subscribe(),
        cmd.Continue(context="callrec-unrecorded", recorded=False),
    ]


def test_the_globals_must_hold_this_services_folder_and_withdrawal_item(tmp_path: Path):
    """A trailing slash does not matter; an empty or other folder, or another item, does."""
    settings = example_settings(tmp_path)
    want = expected_globals(settings)
    assert want == {"CALLREC_DIR": "/srv/rec", "CALLREC_WITHDRAW_FEATURE": "callrec-withdraw-9"}
    assert mismatched(want, {**want, "CALLREC_DIR": "/srv/rec/"}) == []
    assert mismatched(want, {**want, "CALLREC_DIR": ""}) == ["CALLREC_DIR"]
    assert mismatched(want, {**want, "CALLREC_DIR": "/srv/other"}) == ["CALLREC_DIR"]
    assert mismatched(want, {"CALLREC_DIR": "/srv/rec"}) == ["CALLREC_WITHDRAW_FEATURE"]
    silent = expected_globals(example_settings(tmp_path, decline_key=""))
    assert silent["CALLREC_WITHDRAW_FEATURE"] == ""


async def test_the_globals_are_read_again_a_minute_later(tmp_path: Path):
    """A change in Asterisk's globals is noticed within a minute, either way."""
    settings = example_settings(tmp_path)
    fake = FakeAri()
    now = [0.0]
    paths = DialplanPaths(fake, lambda: settings, lambda: now[0])
    assert not paths.due()  # the first reading belongs to the connection
    assert not await paths.check()
    fake.globals.update(expected_globals(settings))
    now[0] = 59.0
    assert not paths.due()
    now[0] = 61.0
    assert paths.due()
    assert await paths.check()
    assert paths.usable
    fake.globals["CALLREC_DIR"] = "/elsewhere"
    now[0] = 130.0
    assert not await paths.check()
    assert not paths.usable


class Service:
    def __init__(self, settings: Settings) -> None:
        self.fake = FakeAri()
        self.rows: list[CallRecord] = []
        self.controller = CallController(
            ari=self.fake,
            flow=ConsentFlow(settings),
            recordings_dir=settings.recording.service_dir,
            submit=self.rows.append,
            settle=lambda path, discard=False: settle(path, wait_seconds=1, discard=discard),
            clock=lambda: T0 + timedelta(seconds=30),
        )

    async def call_through_the_announcement(self) -> list[str]:
        self.controller.on_event(
            ari.StasisStart(timestamp=T0, channel=channel(), args=("5551000", CHANNEL, START))
        )
        await self.settled()
        playback = self.fake.requests[-2].details["playback_id"]
        self.controller.on_event(
            ari.PlaybackFinished(
                timestamp=T0, channel_id=CHANNEL, playback_id=playback, state="done"
            )
        )
        await self.settled()
        return self.fake.operations(CHANNEL)

    async def settled(self) -> None:
        for _ in range(1000):
            await asyncio.sleep(0)
            if not self.controller.events_pending:
                return


async def test_with_matching_globals_the_service_sends_no_variables(tmp_path: Path):
    """After a connection finds the globals right, a consenting call costs four requests."""
    settings = example_settings(tmp_path)
    service = Service(settings)
    service.fake.globals.update(expected_globals(settings))
    await service.controller.reconcile()
    assert await service.call_through_the_announcement() == [
        "answer",
        "play",
        "subscribe",
        "continue",
    ]
    assert service.rows[-1].recording_path == f"2026/11/24/{CHANNEL}.wav"


async def test_with_other_globals_the_service_sets_the_variables(tmp_path: Path):
    """A folder in Asterisk's globals that is not callrec's: the service names the file."""
    settings = example_settings(tmp_path)
    service = Service(settings)
    service.fake.globals.update({**expected_globals(settings), "CALLREC_DIR": "/var/other"})
    await service.controller.reconcile()
    operations = await service.call_through_the_announcement()
    assert operations == ["answer", "play", "subscribe", "set_variables", "continue"]
    assert service.rows[-1].recording_path == f"2026/11/25/{CHANNEL}.wav"

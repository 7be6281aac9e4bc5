"""The controller sheds new calls when callrec cannot keep up, and only new ones (issue 13 §2)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.config import Settings
from callrec_ari.config.overload import OverloadLimits
from callrec_ari.flow.controller import CallController
from callrec_ari.flow.overload import Admission
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.recording.finalise import settle
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.flow.test_controller import at, channel, finished

FIRST, SECOND = "1795514341.6", "1795514351.9"


def arrival(channel_id: str, seconds: float) -> ari.StasisStart:
    return ari.StasisStart(
        timestamp=at(seconds), channel=channel(channel_id), args=("5551000", channel_id)
    )


class Clock:
    """The time the controller sees, moved by the test."""

    def __init__(self) -> None:
        self.now = at(0)

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()


async def settle_all(controller: CallController, fake: FakeAri) -> None:
    for _ in range(10_000):
        await asyncio.sleep(0)
        if not controller.events_pending:
            return


async def test_a_late_call_is_connected_unrecorded_at_once_and_the_first_goes_on(
    settings: Settings,
):
    """The second StasisStart comes in 1.5 s late: that caller is not answered nor announced
    but continued unrecorded at once, row ``overloaded`` with the reason in its evidence,
    while the call already in the consent step is recorded as usual."""
    clock = Clock()
    fake = FakeAri()
    rows: list[CallRecord] = []
    controller = CallController(
        ari=fake,
        flow=ConsentFlow(settings),
        recordings_dir=settings.recording.service_dir,
        submit=rows.append,
        settle=lambda path, discard=False: settle(path, wait_seconds=1, discard=discard),
        clock=clock.wall,
        admission=Admission(OverloadLimits(event_delay_seconds=0.5)),
        monotonic=clock.monotonic,
    )
    controller.on_event(arrival(FIRST, 0))
    await settle_all(controller, fake)
    assert fake.operations(FIRST) == ["answer", "play", "subscribe"]
    clock.now = at(11.5)
    controller.on_event(arrival(SECOND, 10))
    await settle_all(controller, fake)
    assert fake.operations(SECOND) == ["subscribe", "continue"]
    assert fake.requests[-1].details["context"] == settings.dialplan.unrecorded_context
    shed = [r for r in rows if r.uniqueid == SECOND][-1]
    assert shed.consent == Consent.OVERLOADED
    assert shed.recording_status == RecordingStatus.NONE
    assert any("overloaded" in (fact.note or "") for fact in shed.evidence)
    playback = fake.requests[1].details["playback_id"]
    controller.on_event(finished(playback, FIRST))
    await settle_all(controller, fake)
    assert fake.operations(FIRST)[3:] == ["set_variables", "continue"]
    assert [r for r in rows if r.uniqueid == FIRST][-1].consent == Consent.GIVEN
    await controller.close(grace_seconds=0.1)


async def test_without_admission_every_call_is_announced(settings: Settings):
    """No admission object (the default): even a very late call hears the announcement."""
    fake = FakeAri()
    controller = CallController(
        ari=fake,
        flow=ConsentFlow(replace(settings, overload=OverloadLimits(enabled=False))),
        recordings_dir=settings.recording.service_dir,
        submit=lambda _row: None,
        settle=lambda path, discard=False: settle(path, wait_seconds=1, discard=discard),
        clock=lambda: at(600),
    )
    controller.on_event(arrival(FIRST, 0))
    await settle_all(controller, fake)
    assert fake.operations(FIRST) == ["answer", "play", "subscribe"]
    await controller.close(grace_seconds=0.1)

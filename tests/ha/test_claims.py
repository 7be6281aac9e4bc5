"""Claiming broadcast calls: claimed in the background, counted, other events passed on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from structlog.testing import capture_logs

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.ha.claims import Claimer

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def broadcast(channel_id: str) -> ari.CallBroadcast:
    return ari.CallBroadcast(timestamp=T0, channel_id=channel_id)


async def test_every_offered_call_is_claimed_and_the_first_claim_wins():
    """Two instances claim the same calls; each call is won once, the other claim loses."""
    fake = FakeAri()
    passed: list[ari.AriEvent] = []
    first, second = Claimer(fake, passed.append), Claimer(fake, passed.append)
    for channel_id in ("1.1", "1.2", "1.3"):
        first.on_event(broadcast(channel_id))
        second.on_event(broadcast(channel_id))
    await first.close()
    await second.close()
    assert fake.claimed == {"1.1", "1.2", "1.3"}
    assert (first.won + second.won, first.lost + second.lost) == (3, 3)
    assert passed == []  # offers are the claimer's, never the controller's


async def test_other_events_go_to_the_controller_untouched():
    """StasisStart and the rest reach ``on_event`` as they came, in order."""
    passed: list[ari.AriEvent] = []
    claimer = Claimer(FakeAri(), passed.append)
    events = [
        ari.StasisEnd(timestamp=T0, channel_id="1.1"),
        ari.ChannelDestroyed(timestamp=T0, channel_id="1.1", cause=16),
    ]
    for event in events:
        claimer.on_event(event)
    assert passed == events


async def test_an_instance_not_accepting_calls_leaves_them_to_the_others():
    """With ``accepting`` false nothing is claimed: another instance, or fail-open, gets it."""
    fake = FakeAri()
    claimer = Claimer(fake, lambda _: None, accepting=lambda: False)
    claimer.on_event(broadcast("1.1"))
    await claimer.close()
    assert fake.operations() == []


async def test_a_claim_asterisk_refuses_is_logged_and_the_reader_goes_on():
    """A failing claim request is a warning; the next offer is claimed as usual."""
    fake = FakeAri()
    fake.fail("claim", status=500)
    claimer = Claimer(fake, lambda _: None)
    with capture_logs() as logs:
        claimer.on_event(broadcast("1.1"))
        await claimer.close()
    assert [e["event"] for e in logs] == ["call.claim_failed"]
    fake.failures.clear()
    claimer.on_event(broadcast("1.2"))
    await asyncio.wait_for(claimer.close(), 1)
    assert claimer.won == 1

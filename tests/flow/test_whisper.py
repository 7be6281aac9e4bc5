"""The agent tone over ARI, with the fake Asterisk: a whisper-only snoop on the agent who took
the call over, the beep played on it, the snoop hung up; never a new call, never a broken one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Kind
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.whisper import TONE_ARG, Whisper, snoop_id_of
from tests.flow.test_agent_tone import without_tone
from tests.flow.test_controller import CHANNEL, Harness, at, channel
from tests.flow.test_controller_agents import AGENT_A, AGENT_B, connected

SNOOP_B = snoop_id_of(AGENT_B)


@pytest.fixture
def harness(settings: Settings) -> Harness:
    return Harness(settings)


async def blind_transfer(harness: Harness) -> None:
    """agent100 answered; the caller's channel dials agent101 (a blind transfer), who answers."""
    await connected(harness)
    peer_b = channel(AGENT_B, "PJSIP/agent101-00000009")
    harness.ari.channels[AGENT_B] = peer_b
    await harness.feed(
        ari.Dial(timestamp=at(18), channel_id=CHANNEL, peer=peer_b, dialstatus="ANSWER")
    )


def snoop_started() -> ari.StasisStart:
    """The snoop channel on agent101 entering our application."""
    snoop = channel(SNOOP_B, f"Snoop/{AGENT_B}-00000001")
    return ari.StasisStart(timestamp=at(18.1), channel=snoop, args=(TONE_ARG, CHANNEL))


async def test_the_agent_of_a_blind_transfer_hears_the_beep_alone_and_the_row_says_so(
    harness: Harness,
):
    """agent101's channel gets a whisper-only snoop into our application; its StasisStart is
    not a new call; the beep plays on the snoop (the route's language), the snoop is hung up
    when it ends, and the evidence says when agent101 was told. The caller's channel gets no
    request, agent100's no snoop."""
    await blind_transfer(harness)
    request = await harness.ari.requested("snoop", AGENT_B)
    assert request.details == {"snoop_id": SNOOP_B, "app_args": f"{TONE_ARG},{CHANNEL}"}
    caller_before = harness.ari.operations(CHANNEL)
    await harness.feed(snoop_started())
    assert harness.controller.active == 1  # the snoop is not a call
    play = await harness.ari.requested("play", SNOOP_B)
    assert play.details["media"] == ("sound:callrec/agent-tone",)
    assert play.details["language"] == "pl"
    await harness.feed(
        ari.PlaybackFinished(
            timestamp=at(18.5), channel_id=SNOOP_B, playback_id=f"{SNOOP_B}-p", state="done"
        )
    )
    await harness.ari.requested("hangup", SNOOP_B)
    await harness.feed()
    told = harness.last().evidence[-1]
    assert (told.kind, told.note, told.at) == (Kind.AGENT_TOLD, "agent101", at(100))
    assert harness.ari.operations(CHANNEL) == caller_before
    assert "snoop" not in harness.ari.operations(AGENT_A)
    await harness.feed(ari.ChannelDestroyed(timestamp=at(40), channel_id=CHANNEL, cause=16))
    assert harness.last().ended_at == at(40)


async def test_a_route_without_the_tone_makes_no_snoop(settings: Settings):
    """agent_tone = false: the blind transfer's agent is followed, no snoop is made."""
    harness = Harness(without_tone(settings))
    await blind_transfer(harness)
    await asyncio.sleep(0.01)
    assert "snoop" not in harness.ari.operations()


@pytest.mark.parametrize(("operation", "status"), [("snoop", 500), ("snoop", 404), ("play", 500)])
async def test_a_tone_asterisk_refuses_is_noted_and_the_call_goes_on(
    operation: str, status: int, harness: Harness
):
    """The snoop or the beep refused (or agent101 gone): the evidence notes that agent101
    was not told, a snoop that was made is hung up, and the call ends and is stored as usual."""
    harness.ari.fail(operation, status=status)
    await blind_transfer(harness)
    await harness.ari.requested("snoop", AGENT_B)
    if operation == "play":
        await harness.feed(snoop_started())
        await harness.ari.requested("hangup", SNOOP_B)
    for _ in range(100):
        await harness.feed()
        if harness.last().evidence[-1].kind == Kind.NOTE:
            break
        await asyncio.sleep(0.01)
    note = harness.last().evidence[-1]
    assert note.note == "the recording tone could not be played to agent101, who took the call over"
    await harness.feed(ari.ChannelDestroyed(timestamp=at(40), channel_id=CHANNEL, cause=16))
    assert harness.last().ended_at == at(40)
    assert [leg.agent for leg in harness.last().agent_legs] == ["agent100", "agent101"]


async def test_a_snoop_nobody_asked_for_is_hung_up_and_never_taken_for_a_call(harness: Harness):
    """A snoop left by an earlier run enters our application: hung up, no call started."""
    await harness.feed(snoop_started())
    await harness.ari.requested("hangup", SNOOP_B)
    assert harness.controller.active == 0
    assert "answer" not in harness.ari.operations()


async def test_after_a_reconnect_a_snoop_in_the_application_is_not_recovered(harness: Harness):
    """A snoop channel listed in our application is not let through as a lost call."""
    harness.ari.add_channel(SNOOP_B, app_data="", app_name="")
    harness.ari.channels[SNOOP_B] = channel(SNOOP_B, f"Snoop/{AGENT_B}-00000001")
    assert await harness.controller.recover([SNOOP_B]) == []
    assert harness.controller.active == 0


async def test_a_snoop_that_never_starts_is_given_up_after_the_limit():
    """No StasisStart within the limit: the snoop is hung up and the call hears it was not
    played; an agent who hangs up mid-beep likewise (the snoop's StasisEnd)."""
    fake = FakeAri()
    fake.add_channel(AGENT_B, in_app=False)
    fake.add_channel("1795514344.9", in_app=False)
    heard: list[tuple[str, ev.AgentTold]] = []
    whisper = Whisper(
        fake,
        lambda caller, told: heard.append((caller, told)),
        lambda: datetime.now(UTC),
        limit_seconds=0.05,
    )
    whisper.tell(
        CHANNEL, cmd.TellAgent(channel_id=AGENT_B, agent="agent101", media=(), language="en")
    )
    await fake.requested("hangup", SNOOP_B)
    assert [(caller, told.played) for caller, told in heard] == [(CHANNEL, False)]
    assert whisper.pending == 0

    other = cmd.TellAgent(channel_id="1795514344.9", agent="agent102", media=(), language="en")
    whisper.tell(CHANNEL, other)
    snoop = snoop_id_of("1795514344.9")
    await fake.requested("snoop", "1795514344.9")
    assert whisper.takes(ari.StasisEnd(timestamp=at(1), channel_id=snoop))
    assert [told.agent for _, told in heard if not told.played] == ["agent101", "agent102"]
    await whisper.close()

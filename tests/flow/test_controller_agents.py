"""The controller follows every agent on a call (issue 16): a Dial answered on the caller's
channel, an agent's hang-up, and whoever the caller is bridged with after it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.ari import models as ari
from callrec_ari.config import Settings
from tests.flow.test_controller import CHANNEL, Harness, at, channel, finished, start

AGENT_A = "1795514342.7"
AGENT_B = "1795514343.8"


@pytest.fixture
def harness(settings: Settings) -> Harness:
    return Harness(settings)


async def connected(harness: Harness) -> None:
    """A call through the consent step, answered by agent100 (AGENT_A)."""
    await harness.feed(start())
    playback = harness.ari.requests[1].details["playback_id"]
    await harness.feed(finished(playback), ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL))
    peer = channel(AGENT_A, "PJSIP/agent100-00000007")
    harness.ari.channels[AGENT_A] = peer
    await harness.feed(
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER")
    )


async def test_the_answering_agent_is_followed_and_their_hang_up_ends_their_leg(
    harness: Harness,
):
    """agent100 answers: the row names them, their channel is subscribed to; when it is
    destroyed their leg ends then, and the controller asks who the caller is with now."""
    await connected(harness)
    assert harness.ari.operations(AGENT_A) == ["subscribe"]
    record = harness.last()
    assert record.agent == "agent100"
    assert record.agent_legs == (AgentLeg(agent="agent100", channel_id=AGENT_A, joined_at=at(14)),)
    await harness.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=AGENT_A, cause=16))
    assert harness.last().agent_legs[0].left_at == at(20)
    assert harness.ari.operations(CHANNEL)[-1] == "bridged_with"


async def test_after_an_attended_transfer_the_agent_bridged_with_the_caller_joins(
    harness: Harness,
):
    """The caller's channel saw no Dial to agent101: once agent100 hangs up, the channel in
    the caller's bridge is agent101's, who joins then and is followed until the call ends."""
    await connected(harness)
    harness.ari.channels[AGENT_B] = channel(AGENT_B, "PJSIP/agent101-00000009")
    harness.ari.bridges.append([CHANNEL, AGENT_B])
    await harness.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=AGENT_A, cause=16))
    legs = harness.last().agent_legs
    # The controller's clock (at(100)) stamps the moment agent101 was found.
    assert [(leg.agent, leg.joined_at, leg.left_at) for leg in legs] == [
        ("agent100", at(14), at(20)),
        ("agent101", at(100), None),
    ]
    assert harness.ari.operations(AGENT_B)[0] == "subscribe"  # then the tone's snoop
    await harness.feed(ari.ChannelDestroyed(timestamp=at(130), channel_id=CHANNEL, cause=16))
    assert harness.last().agent_legs[1].left_at == at(130)  # everyone leaves with the caller


async def test_a_blind_transfer_is_a_second_dial_and_the_row_keeps_the_first_agent(
    harness: Harness,
):
    """A blind transfer makes the caller's channel dial agent101: a second leg, the row's
    agent stays agent100; with agent101 on the call, agent100's hang-up asks Asterisk nothing."""
    await connected(harness)
    peer_b = channel(AGENT_B, "PJSIP/agent101-00000009")
    harness.ari.channels[AGENT_B] = peer_b
    harness.ari.bridges.append([CHANNEL, AGENT_B])
    await harness.feed(
        ari.Dial(timestamp=at(18), channel_id=CHANNEL, peer=peer_b, dialstatus="ANSWER"),
        ari.ChannelDestroyed(timestamp=at(19), channel_id=AGENT_A, cause=16),
    )
    record = harness.last()
    assert record.agent == "agent100"
    assert [(leg.agent, leg.joined_at, leg.left_at) for leg in record.agent_legs] == [
        ("agent100", at(14), at(19)),
        ("agent101", at(18), None),
    ]
    assert "bridged_with" not in harness.ari.operations(CHANNEL)


async def test_an_agent_gone_before_the_subscription_leaves_at_once(harness: Harness):
    """Asterisk answers "no such channel" to the subscription: the leg ends then, and the
    call goes on."""
    await harness.feed(start())
    playback = harness.ari.requests[1].details["playback_id"]
    await harness.feed(finished(playback), ari.StasisEnd(timestamp=at(12), channel_id=CHANNEL))
    harness.ari.fail("subscribe", status=422)
    peer = channel(AGENT_A, "PJSIP/agent100-00000007")
    await harness.feed(
        ari.Dial(timestamp=at(14), channel_id=CHANNEL, peer=peer, dialstatus="ANSWER")
    )
    assert harness.last().agent_legs[0].left_at == at(100)


async def test_with_follow_agents_off_the_agent_stays_on_until_the_call_ends(settings: Settings):
    """[dialplan] follow_agents = false: no subscription to the agent's channel, its hang-up
    is not heard, and the leg ends when the caller's channel does."""
    harness = Harness(
        dataclasses.replace(
            settings, dialplan=dataclasses.replace(settings.dialplan, follow_agents=False)
        )
    )
    await connected(harness)
    assert harness.ari.operations(AGENT_A) == []
    assert harness.last().agent_legs[0].agent == "agent100"
    await harness.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=AGENT_A, cause=16))
    await harness.feed(ari.ChannelDestroyed(timestamp=at(30), channel_id=CHANNEL, cause=16))
    [leg] = harness.last().agent_legs
    assert leg.left_at == harness.last().ended_at


async def test_an_agent_who_ends_the_call_costs_no_lookup(settings: Settings):
    """agent100 hangs up and Asterisk hangs the caller up a moment later: the call ended
    within the grace, so nobody asks Asterisk for every bridge; a caller still on after it
    is looked for (an attended transfer)."""
    harness = Harness(settings, find_agents_after=0.05)
    await connected(harness)
    await harness.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=AGENT_A, cause=16))
    await harness.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=CHANNEL, cause=16))
    await asyncio.sleep(0.1)
    assert "bridged_with" not in harness.ari.operations(CHANNEL)

    transferred = Harness(settings, find_agents_after=0.05)
    await connected(transferred)
    transferred.ari.channels[AGENT_B] = channel(AGENT_B, "PJSIP/agent101-00000009")
    transferred.ari.bridges.append([CHANNEL, AGENT_B])
    await transferred.feed(ari.ChannelDestroyed(timestamp=at(20), channel_id=AGENT_A, cause=16))
    assert "bridged_with" not in transferred.ari.operations(CHANNEL)
    await asyncio.sleep(0.1)
    await transferred.feed()
    assert [leg.agent for leg in transferred.last().agent_legs] == ["agent100", "agent101"]

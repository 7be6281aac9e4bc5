"""The agents of the calls in progress: a followed agent's end reaches their call, and the
channels of a call that is over are forgotten."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from callrec_ari.ari import models as ari
from callrec_ari.ari.fake import FakeAri
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.agent_follow import AgentFollow
from callrec_ari.flow.worker import CallWorker

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CALLER = "1795514341.6"
AGENT = "1795514342.7"


class Agents:
    """An AgentFollow over one call in progress, with the fake Asterisk it asks."""

    def __init__(self, *, follow: bool = True) -> None:
        self.ari = FakeAri()
        self.worker = CallWorker(CALLER, connection=1)
        self.follow = AgentFollow(
            ari_port=self.ari,
            calls={CALLER: self.worker},
            clock=lambda: T0,
            background=asyncio.ensure_future,
            follow=follow,
            find_after=None,
        )


def destroyed(channel_id: str) -> ari.ChannelDestroyed:
    return ari.ChannelDestroyed(timestamp=T0, channel_id=channel_id, cause=16)


async def test_a_followed_agents_hang_up_reaches_their_call():
    """The agent's channel is subscribed to; its end is put on the call's queue as AgentLeft."""
    agents = Agents()
    assert await agents.follow.run(CALLER, cmd.FollowAgent(channel_id=AGENT)) is None
    assert agents.ari.operations(AGENT) == ["subscribe"]
    assert agents.follow.takes(destroyed(AGENT))
    assert agents.worker.queue.get_nowait() == ev.AgentLeft(at=T0, channel_id=AGENT)
    assert not agents.follow.takes(destroyed(AGENT))  # followed until its end only


async def test_an_agent_already_gone_has_left_at_once():
    """Subscribing to a channel Asterisk no longer has answers AgentLeft straight away."""
    agents = Agents()
    agents.ari.fail("subscribe", status=404)
    left = await agents.follow.run(CALLER, cmd.FollowAgent(channel_id=AGENT))
    assert left == ev.AgentLeft(at=T0, channel_id=AGENT)
    assert not agents.follow.takes(destroyed(AGENT))


async def test_with_follow_agents_off_no_agent_is_subscribed_to():
    """follow_agents = false: the agent's leg ends with the call, nothing is asked."""
    agents = Agents(follow=False)
    assert await agents.follow.run(CALLER, cmd.FollowAgent(channel_id=AGENT)) is None
    assert agents.ari.requests == []
    assert not agents.follow.takes(destroyed(AGENT))


async def test_a_calls_agents_are_forgotten_when_the_call_is_over():
    """Once the call is over, its agent's events are no longer taken."""
    agents = Agents()
    await agents.follow.run(CALLER, cmd.FollowAgent(channel_id=AGENT))
    agents.follow.forget(CALLER)
    assert not agents.follow.takes(destroyed(AGENT))

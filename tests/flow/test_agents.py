"""The flow's agent steps, pure: answered, left, found in the caller's bridge, call ended."""

from __future__ import annotations

from callrec_ari.config import Settings
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call, Phase
from callrec_ari.flow.states import ConsentFlow
from tests.flow.test_states import arrival, at, finish_prompt


def connected(flow: ConsentFlow) -> Call:
    """A call past the consent step, back in the dialplan, nobody answered yet."""
    call, _ = flow.start(arrival())
    call, _ = finish_prompt(flow, call)
    call, _ = flow.handle(call, ev.Continued(at=at(12.01)))
    call, _ = flow.handle(call, ev.LeftStasis(at=at(12.01)))
    assert call.phase == Phase.CONNECTED
    return call


def test_each_answering_agent_is_followed_once(settings: Settings):
    """A Dial answered opens a leg and asks to follow the channel; the same channel again
    changes nothing; a Dial without a known channel only names the first agent."""
    flow = ConsentFlow(settings)
    call = connected(flow)
    call, commands = flow.handle(call, ev.AgentAnswered(at=at(13), agent="a100", channel_id="c1"))
    assert commands == [cmd.FollowAgent(channel_id="c1")]
    again, commands = flow.handle(call, ev.AgentAnswered(at=at(14), agent="a100", channel_id="c1"))
    assert (again, commands) == (call, [])
    anonymous, commands = flow.handle(connected(flow), ev.AgentAnswered(at=at(13), agent="a1"))
    assert (anonymous.record.agent, anonymous.record.agent_legs, commands) == ("a1", (), [])


def test_an_agent_leaving_asks_who_has_the_caller_and_a_found_agent_joins(settings: Settings):
    """A's hang-up ends their leg and asks for the caller's bridge; B found there joins now
    and is followed; an unknown channel's hang-up asks nothing; the call's end closes B."""
    flow = ConsentFlow(settings)
    call, _ = flow.handle(
        connected(flow), ev.AgentAnswered(at=at(13), agent="a100", channel_id="c1")
    )
    call, commands = flow.handle(call, ev.AgentLeft(at=at(20), channel_id="c1"))
    assert commands == [cmd.FindAgents()]
    assert flow.handle(call, ev.AgentLeft(at=at(21), channel_id="zz")) == (call, [])
    call, commands = flow.handle(call, ev.AgentsFound(at=at(20.1), found=(("c2", "a101"),)))
    assert commands[0] == cmd.FollowAgent(channel_id="c2")  # then the tone (test_agent_tone)
    call, _ = flow.handle(call, ev.ChannelEnded(at=at(40)))
    assert [(leg.agent, leg.joined_at, leg.left_at) for leg in call.record.agent_legs] == [
        ("a100", at(13), at(20)),
        ("a101", at(20.1), at(40)),
    ]
    assert call.record.agent == "a100"


def test_an_agent_found_first_in_the_bridge_is_the_calls_agent(settings: Settings):
    """No Dial was seen (the service followed the call only from the bridge): the first
    agent found becomes the row's agent, answered then."""
    flow = ConsentFlow(settings)
    call, _ = flow.handle(
        connected(flow), ev.AgentsFound(at=at(15), found=(("c2", "a101"), ("c3", "a102")))
    )
    assert (call.record.agent, call.record.answered_at) == ("a101", at(15))
    assert [leg.agent for leg in call.record.agent_legs] == ["a101", "a102"]


def test_a_call_adopted_after_a_restart_follows_its_agents_still_on_it(settings: Settings):
    """The snapshot names agent100 (gone) and agent101 (still on): the caller's channel and
    agent101's are subscribed to again, agent100's is not."""
    flow = ConsentFlow(settings)
    call, _ = flow.handle(
        connected(flow), ev.AgentAnswered(at=at(13), agent="a100", channel_id="c1")
    )
    call, _ = flow.handle(call, ev.AgentLeft(at=at(20), channel_id="c1"))
    call, _ = flow.handle(call, ev.AgentsFound(at=at(20.1), found=(("c2", "a101"),)))
    _, commands = flow.adopt(call.record, ended_at=None)
    assert commands == [cmd.Subscribe(), cmd.FollowAgent(channel_id="c2")]

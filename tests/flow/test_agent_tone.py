"""The flow's agent tone, pure: who is told (agents who take a call over, on routes that say
so), in which language, and what the evidence keeps."""

from __future__ import annotations

import dataclasses

from callrec_ari.config import Settings
from callrec_ari.evidence.facts import Kind
from callrec_ari.evidence.statement import statement
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call
from callrec_ari.flow.states import ConsentFlow
from tests.flow.test_agents import connected
from tests.flow.test_states import at

TONE_B = cmd.TellAgent(
    channel_id="c2", agent="a101", media=("sound:callrec/agent-tone",), language="pl"
)


def without_tone(settings: Settings) -> Settings:
    """The example settings with agent_tone = false on every route."""
    return dataclasses.replace(
        settings,
        routes={
            did: dataclasses.replace(route, agent_tone=False)
            for did, route in settings.routes.items()
        },
        default_route=dataclasses.replace(settings.default_route, agent_tone=False),
    )


def answered_by_a(flow: ConsentFlow) -> tuple[Call, list[cmd.Command]]:
    """A connected call (the Polish line) answered by a100 on channel c1."""
    return flow.handle(connected(flow), ev.AgentAnswered(at=at(13), agent="a100", channel_id="c1"))


def test_the_first_agent_hears_nothing_the_agent_of_a_blind_transfer_hears_the_tone(
    settings: Settings,
):
    """a100 answers: followed, no tone; a101 answers the blind transfer's Dial: followed and
    told, in the route's first language; the same Dial seen again tells nobody twice."""
    flow = ConsentFlow(settings)
    call, commands = answered_by_a(flow)
    assert commands == [cmd.FollowAgent(channel_id="c1")]
    call, commands = flow.handle(call, ev.AgentAnswered(at=at(18), agent="a101", channel_id="c2"))
    assert commands == [cmd.FollowAgent(channel_id="c2"), TONE_B]
    _, commands = flow.handle(call, ev.AgentAnswered(at=at(19), agent="a101", channel_id="c2"))
    assert commands == []


def test_the_agent_found_after_an_attended_transfer_hears_the_tone(settings: Settings):
    """A hangs up, B is found in the caller's bridge: B is followed and told."""
    flow = ConsentFlow(settings)
    call, _ = answered_by_a(flow)
    call, _ = flow.handle(call, ev.AgentLeft(at=at(20), channel_id="c1"))
    _, commands = flow.handle(call, ev.AgentsFound(at=at(20.1), found=(("c2", "a101"),)))
    assert commands == [cmd.FollowAgent(channel_id="c2"), TONE_B]


def test_a_route_without_agent_tone_tells_nobody(settings: Settings):
    """agent_tone = false: the transferred-to agent is followed, and that is all."""
    flow = ConsentFlow(without_tone(settings))
    call, _ = answered_by_a(flow)
    _, commands = flow.handle(call, ev.AgentAnswered(at=at(18), agent="a101", channel_id="c2"))
    assert commands == [cmd.FollowAgent(channel_id="c2")]


def test_the_evidence_says_when_the_new_agent_was_told_or_that_they_were_not(
    settings: Settings,
):
    """A played tone is an ``agent_told`` fact naming the agent and its time, in the DPO's
    statement too; one that could not be played is a note saying so."""
    flow = ConsentFlow(settings)
    call, _ = answered_by_a(flow)
    call, _ = flow.handle(call, ev.AgentAnswered(at=at(18), agent="a101", channel_id="c2"))
    told, commands = flow.handle(
        call, ev.AgentTold(at=at(18.6), channel_id="c2", agent="a101", played=True)
    )
    assert commands == []
    fact = told.record.evidence[-1]
    assert (fact.kind, fact.at, fact.note) == (Kind.AGENT_TOLD, at(18.6), "a101")
    lines = statement(told.record)
    assert any("a101, who took the call over, had heard the tone" in line for line in lines)
    missed, _ = flow.handle(
        call, ev.AgentTold(at=at(30), channel_id="c2", agent="a101", played=False)
    )
    note = missed.record.evidence[-1]
    assert (note.kind, note.at) == (Kind.NOTE, at(30))
    assert note.note == "the recording tone could not be played to a101, who took the call over"

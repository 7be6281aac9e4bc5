"""The consent flow's steps for the agents of a connected call: answered, left, found. Pure.

The caller's channel reports each Dial it makes (the route's Dial or Queue, and a blind
transfer's): the agent who answers gets a leg and their channel is followed. When a
followed agent hangs up while the caller is still on, the call may have passed to someone
the caller's channel never dialled (an attended transfer joins the caller to the channel
the first agent dialled): the flow asks who the caller is bridged with now.

Every agent after the first (who took the call over) hears the route's recording tone, when
the route has ``agent_tone``: ``TellAgent``, answered by ``AgentTold``, which the evidence keeps.
"""

from __future__ import annotations

from callrec_ari import agent_legs
from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call, Step, noted, with_record

AgentEvent = ev.AgentAnswered | ev.AgentLeft | ev.AgentsFound | ev.AgentTold
SOUND_FOLDER = "callrec"


def handle(call: Call, event: AgentEvent, tone: str | None = None) -> Step:
    """Apply one agent event to a connected call; ``tone`` is the sound an agent who takes
    the call over hears when the route says so ([consent] agent_tone_prompt)."""
    match event:
        case ev.AgentAnswered():
            call, commands = agent_answered(call, event)
        case ev.AgentLeft():
            return agent_left(call, event)
        case ev.AgentsFound():
            call, commands = agents_found(call, event)
        case ev.AgentTold():
            return agent_told(call, event), []
    return call, [*commands, *tell(call, commands, tone)]


def tell(call: Call, commands: list[cmd.Command], tone: str | None) -> list[cmd.TellAgent]:
    """A ``TellAgent`` for each agent these commands start following who is not the call's
    first agent, when the route plays the tone: nothing on a call nobody takes over."""
    if tone is None or not call.route.agent_tone or not call.route.languages:
        return []
    first = call.record.agent_legs[0].channel_id if call.record.agent_legs else None
    agents = {leg.channel_id: leg.agent for leg in call.record.agent_legs}
    return [
        cmd.TellAgent(
            channel_id=command.channel_id,
            agent=agents[command.channel_id],
            media=(f"sound:{SOUND_FOLDER}/{tone}",),
            language=call.route.languages[0],
        )
        for command in commands
        if isinstance(command, cmd.FollowAgent)
        and command.channel_id != first
        and command.channel_id in agents
    ]


def agent_told(call: Call, event: ev.AgentTold) -> Call:
    """The evidence says when the agent who took over heard the tone, or that they did not."""
    if event.played:
        return noted(call, Fact(kind=Kind.AGENT_TOLD, at=event.at, note=event.agent))
    note = f"the recording tone could not be played to {event.agent}, who took the call over"
    return noted(call, Fact(kind=Kind.NOTE, at=event.at, note=note))


def agent_answered(call: Call, event: ev.AgentAnswered) -> Step:
    """A Dial from the caller's channel was answered: the first agent is the row's ``agent``;
    every one gets a leg and is followed."""
    record = call.record
    first = {"agent": event.agent, "answered_at": event.at} if record.agent is None else {}
    if not event.channel_id:
        return with_record(call, **first), []
    legs = agent_legs.joined(
        record.agent_legs, agent=event.agent, channel_id=event.channel_id, at=event.at
    )
    if legs == record.agent_legs:
        return with_record(call, **first), []
    return with_record(call, agent_legs=legs, **first), [
        cmd.FollowAgent(channel_id=event.channel_id)
    ]


def agent_left(call: Call, event: ev.AgentLeft) -> Step:
    """A followed agent hung up: their leg ends, and unless another agent is still on the
    call (a blind transfer's target answered already), the flow asks who has the caller now:
    that lists every bridge in Asterisk, so it is asked only when someone may be missing."""
    legs = agent_legs.left(call.record.agent_legs, event.channel_id, event.at)
    if legs == call.record.agent_legs:
        return call, []
    if agent_legs.on_call(legs):
        return with_record(call, agent_legs=legs), []
    return with_record(call, agent_legs=legs), [cmd.FindAgents()]


def agents_found(call: Call, event: ev.AgentsFound) -> Step:
    """The caller is bridged with these channels now: each new one is an agent who joined
    (an attended transfer's target), from now, and is followed."""
    legs = call.record.agent_legs
    commands: list[cmd.Command] = []
    for channel_id, agent in event.found:
        more = agent_legs.joined(legs, agent=agent, channel_id=channel_id, at=event.at)
        if more != legs:
            commands.append(cmd.FollowAgent(channel_id=channel_id))
            legs = more
    if not commands:
        return call, []
    first = {}
    if call.record.agent is None:
        first = {"agent": legs[0].agent, "answered_at": legs[0].joined_at}
    return with_record(call, agent_legs=legs, **first), commands


def ended(call: Call) -> Call:
    """The call with every agent still on it gone when it ended (``ended_at``)."""
    if call.record.ended_at is None or not agent_legs.on_call(call.record.agent_legs):
        return call
    return with_record(
        call, agent_legs=agent_legs.all_left(call.record.agent_legs, call.record.ended_at)
    )

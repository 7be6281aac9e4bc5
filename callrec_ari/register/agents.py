"""The agents of a call connected while callrec was down, as the register names them. Pure.

On the fail-open path only, the dialplan's ``[callrec-agent]`` runs on each agent's channel
when they answer (Dial's ``U()``, Queue's gosub: ``CALLREC_AGENT_DIAL``, ``CALLREC_AGENT_QUEUE``)
and, from a hangup handler, when they leave. Format 1, fields separated by ``|``::

    callrec-register/1|agent-answered|<call uniqueid>|<agent uniqueid>|<agent channel>|<joined>
    callrec-register/1|agent-left|<call uniqueid>|<agent uniqueid>|<agent channel>|<joined>|<left>

``<call uniqueid>`` is the caller's channel (the call's row), ``<agent channel>`` its name
(``PJSIP/agent100-0000001f``), times Unix seconds as on the call's lines. A left line repeats
the joined time, so each line stands alone when a call's lines fall into two imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from callrec_ari import agent_legs
from callrec_ari.agent_legs import AgentLeg
from callrec_ari.names import UNIQUEID
from callrec_ari.register.lines import (
    MAX_LINE,
    BadLineError,
    RegisterCall,
    field,
    parse_line,
    split_line,
    timestamp,
)

ANSWERED = "agent-answered"
LEFT = "agent-left"
_FIELDS = {ANSWERED: 6, LEFT: 7}
_TIME = re.compile(r"[0-9]{9,11}(\.[0-9]{1,6})?")
_CHANNEL = re.compile(r"[0-9A-Za-z/_.@-]{1,128}")
_CHANNEL_NAME = re.compile(r"[^/]+/(?P<agent>.+)-[0-9a-f]+(;[0-9])?")


@dataclass(frozen=True, kw_only=True)
class RegisterAgent:
    """One agent's leg of a register call, as far as one line tells it."""

    call_uniqueid: str
    leg: AgentLeg


def parse_entry(text: str) -> RegisterCall | RegisterAgent:
    """A call line (``lines.parse_line``) or an agent line; ``BadLineError`` naming the
    first field at fault."""
    fields = text[: MAX_LINE + 1].rstrip("\r\n").split("|", 2)
    if len(fields) < 2 or fields[1] not in _FIELDS:
        return parse_line(text)
    return parse_agent_line(text)


def parse_agent_line(text: str) -> RegisterAgent:
    """The agent leg one ``agent-answered`` or ``agent-left`` line describes."""
    fields, event = split_line(text)
    expected = _FIELDS.get(event)
    if expected is None:
        raise BadLineError("the event is neither agent-answered nor agent-left")
    if len(fields) != expected:
        raise BadLineError(f"an {event} line has {expected} fields, this one {len(fields)}")
    call = field(fields, 2, UNIQUEID, "call uniqueid")
    channel_id = field(fields, 3, UNIQUEID, "agent uniqueid")
    name = field(fields, 4, _CHANNEL, "agent channel")
    joined = timestamp(field(fields, 5, _TIME, "joined"), "joined")
    left = None
    if event == LEFT:
        left = timestamp(field(fields, 6, _TIME, "left"), "left")
        if left < joined:
            raise BadLineError("the agent left before they joined")
    match = _CHANNEL_NAME.fullmatch(name)
    leg = AgentLeg(
        agent=match.group("agent") if match else name,
        channel_id=channel_id,
        joined_at=joined,
        left_at=left,
    )
    return RegisterAgent(call_uniqueid=call, leg=leg)


def legs_by_call(entries: Iterable[RegisterAgent]) -> dict[str, agent_legs.Legs]:
    """Each call's legs in the order the agents joined: one per agent channel, a left line
    winning over an answered one."""
    found: dict[str, dict[str, AgentLeg]] = {}
    for entry in entries:
        legs = found.setdefault(entry.call_uniqueid, {})
        known = legs.get(entry.leg.channel_id)
        if known is None or (known.left_at is None and entry.leg.left_at is not None):
            legs[entry.leg.channel_id] = entry.leg
    return {
        call: tuple(sorted(legs.values(), key=lambda leg: leg.joined_at))
        for call, legs in found.items()
    }

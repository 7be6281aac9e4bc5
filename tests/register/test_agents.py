"""Reading the register's agent lines strictly, and each call's legs from them. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callrec_ari.register.agents import (
    RegisterAgent,
    legs_by_call,
    parse_agent_line,
    parse_entry,
)
from callrec_ari.register.lines import BadLineError, RegisterCall
from tests.register.test_lines import START

CALL = "1796178112.7"
ANSWERED = (
    f"callrec-register/1|agent-answered|{CALL}|1796178113.9|PJSIP/agent100-0000001f|1796178115.5"
)
LEFT = (
    f"callrec-register/1|agent-left|{CALL}|1796178113.9|PJSIP/agent100-0000001f"
    "|1796178115.5|1796178130.25"
)


def at(seconds: float) -> datetime:
    """A register time as UTC."""
    return datetime.fromtimestamp(seconds, UTC)


def test_an_answered_line_opens_a_leg_and_a_left_line_closes_it():
    """The call's uniqueid, the agent's channel and endpoint, joined and left to the ms."""
    answered = parse_agent_line(ANSWERED + "\n")
    assert answered.call_uniqueid == CALL
    assert answered.leg.agent == "agent100"
    assert answered.leg.channel_id == "1796178113.9"
    assert (answered.leg.joined_at, answered.leg.left_at) == (at(1796178115.5), None)
    left = parse_agent_line(LEFT)
    assert (left.leg.joined_at, left.leg.left_at) == (at(1796178115.5), at(1796178130.25))


def test_entries_are_calls_or_agents():
    """parse_entry reads both kinds of line, each as what it is."""
    assert isinstance(parse_entry(START), RegisterCall)
    assert isinstance(parse_entry(ANSWERED), RegisterAgent)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (ANSWERED.replace("agent-answered", "agent-danced"), "neither start nor end"),
        (ANSWERED + "|1796178130", "6 fields"),
        (LEFT.rsplit("|", 1)[0], "7 fields"),
        (ANSWERED[:-8], "joined"),  # torn mid-write
        (ANSWERED.replace(CALL, "17961;78112.7"), "call uniqueid"),
        (ANSWERED.replace("1796178113.9", "../../x"), "agent uniqueid"),
        (ANSWERED.replace("PJSIP/agent100-0000001f", "PJSIP/<b>"), "agent channel"),
        (ANSWERED.replace("PJSIP/agent100-0000001f", ""), "agent channel"),
        (ANSWERED.replace("0000001f", "0000001f\ncallrec-register/1"), "agent channel"),
        (LEFT.replace("1796178130.25", "1796178100"), "left before they joined"),
        (LEFT.replace("1796178130.25", "4102444800"), "between 2000 and 2100"),
        (ANSWERED + "9" * 2000, "longer than"),
        ("callrec-register/2|agent-left|1.1|1.1|P/a-1|1796178115|1796178116", "does not start"),
    ],
)
def test_hostile_and_broken_agent_lines_are_refused_with_the_field_at_fault(line, reason):
    """A | or a line break inside a field, a torn write, a bad time: the whole line refused."""
    with pytest.raises(BadLineError, match=reason):
        parse_entry(line)


def test_each_call_gets_one_leg_per_agent_in_the_order_they_joined():
    """A left line wins over the answered one in either order; B (blind transfer) after A."""
    b = parse_agent_line(
        ANSWERED.replace("1796178113.9", "1796178120.11")
        .replace("agent100", "agent101")
        .replace("1796178115.5", "1796178121")
    )
    other = parse_agent_line(ANSWERED.replace(CALL, "1796178200.1"))
    legs = legs_by_call([b, parse_agent_line(LEFT), parse_agent_line(ANSWERED), other])
    assert [(leg.agent, leg.left_at) for leg in legs[CALL]] == [
        ("agent100", at(1796178130.25)),
        ("agent101", None),
    ]
    assert [leg.agent for leg in legs["1796178200.1"]] == ["agent100"]

"""Agent legs: who was on a call from when to when, as the flow builds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.agent_legs import AgentLeg, agents, all_left, joined, left, on_call

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_transfer_adds_a_leg_and_the_call_end_closes_what_is_open():
    """A joins, leaves; B joins and stays to the end: A's leg ends when A left, B's when
    the call ended; the agents are listed once each, in order."""
    legs = joined((), agent="agent100", channel_id="a", at=at(14))
    legs = joined(legs, agent="agent101", channel_id="b", at=at(18))
    legs = left(legs, "a", at(19))
    assert on_call(legs) == {"b"}
    legs = all_left(legs, at(40))
    assert [(leg.agent, leg.joined_at, leg.left_at) for leg in legs] == [
        ("agent100", at(14), at(19)),
        ("agent101", at(18), at(40)),
    ]
    assert agents([*legs, *legs]) == ("agent100", "agent101")


def test_a_channel_seen_twice_keeps_its_first_leg_and_an_ended_leg_stays_ended():
    """The same channel answered and then found in the bridge is one leg; a second hang-up
    (or the call's end) never moves a leg's end; an end before the start is the start."""
    legs = joined((), agent="agent100", channel_id="a", at=at(14))
    assert joined(legs, agent="agent100", channel_id="a", at=at(30)) == legs
    legs = left(legs, "a", at(20))
    assert left(legs, "a", at(25)) == legs
    assert all_left(legs, at(40)) == legs
    assert left(joined((), agent="x", channel_id="c", at=at(5)), "c", at(4))[0].left_at == at(5)


def test_a_leg_round_trips_through_json_and_a_naive_time_is_refused():
    """to_json/from_json keep every field; a time without a timezone is not guessed."""
    leg = AgentLeg(agent="agent101", channel_id="b", joined_at=at(18), left_at=at(40))
    assert AgentLeg.from_json(leg.to_json()) == leg
    data = {**leg.to_json(), "joined_at": "2026-12-02T10:00:18"}
    with pytest.raises(ValueError, match="timezone"):
        AgentLeg.from_json(data)

"""Who spoke for the organisation on a call: one leg per agent's channel, joined to left.

A queued call answered by agent A and transferred to agent B (blind or attended) keeps one
caller's channel, one recording and one row, and gains one leg per agent: A's from when
their phone answered to when it hung up, B's from when they answered (a blind transfer, a
Dial on the caller's channel) or were found bridged with the caller (an attended transfer,
where the caller's channel sees no Dial) to when they hung up or the call ended. ``agent``
on the row stays the first agent's, as before. Pure functions on immutable tuples; the
consent flow applies them and the controller follows each agent's channel (``FollowAgent``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class AgentLeg:
    """One agent's part of a call: their channel, when they joined and when they left."""

    agent: str  # the phone's endpoint or extension, as ``CallRecord.agent``
    channel_id: str  # the agent's channel (Asterisk uniqueid)
    joined_at: datetime
    left_at: datetime | None = None  # None while they are on the call

    def to_json(self) -> dict[str, str | None]:
        """The leg as JSON-ready values (ISO 8601 times)."""
        return {
            "agent": self.agent,
            "channel_id": self.channel_id,
            "joined_at": self.joined_at.isoformat(),
            "left_at": None if self.left_at is None else self.left_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Any) -> AgentLeg:
        """The leg ``to_json`` produced; ``ValueError``, ``KeyError`` or ``TypeError`` if not."""
        left = data["left_at"]
        joined = datetime.fromisoformat(str(data["joined_at"]))
        leg = cls(
            agent=str(data["agent"]),
            channel_id=str(data["channel_id"]),
            joined_at=joined,
            left_at=None if left is None else datetime.fromisoformat(str(left)),
        )
        if joined.tzinfo is None or (leg.left_at is not None and leg.left_at.tzinfo is None):
            raise ValueError("An agent leg's time has no timezone.")
        return leg


Legs = tuple[AgentLeg, ...]


def joined(legs: Legs, *, agent: str, channel_id: str, at: datetime) -> Legs:
    """``legs`` with a new leg for ``channel_id``; unchanged if that channel already has one
    (the same channel seen twice, e.g. a Dial answer and then in the caller's bridge)."""
    if any(leg.channel_id == channel_id for leg in legs):
        return legs
    return (*legs, AgentLeg(agent=agent, channel_id=channel_id, joined_at=at))


def left(legs: Legs, channel_id: str, at: datetime) -> Legs:
    """``legs`` with the leg of ``channel_id`` ended at ``at`` (if it was still open)."""
    return tuple(
        replace(leg, left_at=max(at, leg.joined_at))
        if leg.channel_id == channel_id and leg.left_at is None
        else leg
        for leg in legs
    )


def all_left(legs: Legs, at: datetime) -> Legs:
    """``legs`` with every open leg ended at ``at``: the caller hung up, so everyone left."""
    return tuple(
        replace(leg, left_at=max(at, leg.joined_at)) if leg.left_at is None else leg for leg in legs
    )


def on_call(legs: Legs) -> frozenset[str]:
    """The channels of the agents still on the call."""
    return frozenset(leg.channel_id for leg in legs if leg.left_at is None)


def agents(legs: Iterable[AgentLeg]) -> tuple[str, ...]:
    """Each agent who took part, once, in the order they joined."""
    return tuple(dict.fromkeys(leg.agent for leg in legs))

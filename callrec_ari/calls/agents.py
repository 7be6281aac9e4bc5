"""Which agents took part in a call, for the access rules and the search.

An agent may see, find and play every call they took part in: the first agent (``calls.agent``)
and every agent a queue or a transfer brought on later (``call_agents``, written by the
service). They get the whole call, not only the part after they joined: the caller told the
first agent what the call is about, and the one who takes over answers for all of it
(README, "Transfers and queues").
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import CallFacts
from callrec_ari.db.models import Call, CallAgent


def took_part(agent: str) -> ColumnElement[bool]:
    """The calls ``agent`` took part in, as a condition on ``Call`` (both ways use an index)."""
    legs = select(CallAgent.call_uniqueid).where(CallAgent.agent == agent)
    return or_(Call.agent == agent, Call.uniqueid.in_(legs))


async def agents_on(session: AsyncSession, uniqueids: Sequence[str]) -> dict[str, frozenset[str]]:
    """The agents of each of these calls' legs (calls without legs are left out)."""
    if not uniqueids:
        return {}
    rows = await session.execute(
        select(CallAgent.call_uniqueid, CallAgent.agent).where(
            CallAgent.call_uniqueid.in_(uniqueids)
        )
    )
    found: dict[str, set[str]] = {}
    for uniqueid, agent in rows:
        found.setdefault(uniqueid, set()).add(agent)
    return {uniqueid: frozenset(agents) for uniqueid, agents in found.items()}


def facts_with(call: Call, agents: frozenset[str] = frozenset()) -> CallFacts:
    """What the access rules need to know about a call, with the agents of its legs."""
    return CallFacts(agent=call.agent, agents=agents, restricted=call.restricted_at is not None)


async def call_facts(session: AsyncSession, call: Call) -> CallFacts:
    """``facts_with`` the call's legs read from the database."""
    legs = await agents_on(session, [call.uniqueid])
    return facts_with(call, legs.get(call.uniqueid, frozenset()))

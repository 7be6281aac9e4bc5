"""One call's state in the consent flow, and the small pure steps every transition uses.

``states.py`` (inbound) and ``outbound.py`` build their transitions from these; no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from callrec_ari.config import Route
from callrec_ari.config.outbound import OutboundRoute
from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import commands as cmd
from callrec_ari.flow.notes import played
from callrec_ari.records import CallRecord


class Phase(enum.StrEnum):
    """Where a call is in the consent flow."""

    ANNOUNCING = "announcing"
    DECLINING = "declining"
    AWAITING_KEY = "awaiting_key"  # outbound: announcement done, waiting for the agree key
    HANDING_OFF = "handing_off"
    CONNECTED = "connected"
    FINALISING = "finalising"
    DONE = "done"


@dataclass(frozen=True, kw_only=True)
class Call:
    """One call's state: its record plus what the flow is waiting for."""

    phase: Phase
    channel_id: str
    record: CallRecord
    route: Route
    queued: tuple[cmd.Play, ...] = ()  # prompts still to play after the current one
    playback_id: str | None = None  # the playback whose end we wait for
    playbacks: int = 0  # how many we started, to give each a unique id
    playing: cmd.Play | None = None  # the playback whose end we wait for, for the evidence
    # An announcement that ended, not yet known to have ended with the caller still there:
    # hanging up also ends a playback, so only a later sign of life (the next announcement
    # ending, a key, the accepted continue) makes it evidence of having been heard.
    unconfirmed: Fact | None = None
    outbound: OutboundRoute | None = None  # set on outbound calls (flow/outbound.py)
    stored: bool = True  # False: a call callrec only lets through, leaving no row
    # Asked to follow the channel past the consent step (cmd.Subscribe): done while the
    # announcement plays, so that the hand-off after it is a single request.
    subscribed: bool = False
    # The dialplan's start of the call when it names the recording itself (arrival.py).
    dialplan_start: datetime | None = None


Step = tuple[Call, list[cmd.Command]]
# Phases in which the caller is still in our hands, not yet back in the dialplan.
BEFORE_CONNECTION = frozenset(
    {Phase.ANNOUNCING, Phase.DECLINING, Phase.AWAITING_KEY, Phase.HANDING_OFF}
)


def with_record(call: Call, **changes: Any) -> Call:
    """The call with some fields of its record changed."""
    return replace(call, record=replace(call.record, **changes))


def noted(call: Call, *facts: Fact) -> Call:
    """The call with ``facts`` added to its record's evidence."""
    return with_record(call, evidence=(*call.record.evidence, *facts))


def confirmed(call: Call) -> Call:
    """The call once the caller showed they were still there: the last announcement counts."""
    if call.unconfirmed is None:
        return call
    return replace(noted(call, call.unconfirmed), unconfirmed=None)


def hung_up(call: Call) -> bool:
    """Whether the evidence already says the caller hung up."""
    return any(fact.kind == Kind.HUNG_UP for fact in call.record.evidence)


def ended_playback(call: Call, kind: Kind, at: datetime) -> Fact:
    """The fact that the current playback ended (``kind`` says how)."""
    return played(call.playing, kind, at)


def playback_id_of(call: Call, number: int) -> str:
    """The id of the call's ``number``-th playback: deterministic, so a restart can stop it."""
    return f"{call.channel_id}-p{number}"


def next_prompt(call: Call) -> Step:
    """Start the first queued prompt."""
    first, *rest = call.queued
    return replace(call, queued=tuple(rest), playback_id=first.playback_id, playing=first), [first]

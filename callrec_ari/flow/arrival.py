"""What Asterisk tells callrec about a call, read as flow events: a call's arrival from its
channel and its ``Stasis()`` arguments (which come from the dialplan and, through the DID,
from the network: checked, never trusted), and each later ARI event. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.flow import events as ev
from callrec_ari.names import UNIQUEID

log = structlog.get_logger(__name__)

_DID = re.compile(r"\+?[0-9]{1,32}|s")
_PEER_NAME = re.compile(r"[^/]+/(?P<agent>.+)-[0-9a-f]+(;[0-9])?")
_MAX_NUMBER = 64
# The staff phone's endpoint, as the dialplan sent it.
_STAFF = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")
OUTBOUND_ARG = "outbound"  # Stasis(app,outbound,<callee>,<linkedid>,<staff endpoint>)
# CALLREC_START: Unix time with milliseconds, as STRFTIME(,,%s.%3q) writes it.
_START = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")
# A start further from the StasisStart than this is not believed (a clock jump, a forgery).
_START_DRIFT = timedelta(hours=1)


# The dialplan applications a channel waiting for callrec sits in: Stasis(app,args...) or
# StasisBroadcast(timeout,filter,args:joined:by:colons) (README, "Two instances").
STASIS = "Stasis"
STASIS_BROADCAST = "StasisBroadcast"


def stasis_args(channel: ari.Channel) -> tuple[str, ...]:
    """The arguments callrec's dialplan gave the application the channel sits in, read back
    from its ``app_data`` (for a call found after a restart or left by another instance)."""
    fields = channel.app_data.split(",")
    if channel.app_name == STASIS_BROADCAST:
        return tuple(fields[2].split(":")) if len(fields) > 2 and fields[2] else ()
    return tuple(fields[1:])


def arrival_from(channel: ari.Channel, args: tuple[str, ...], at: datetime) -> ev.CallArrived:
    """Build the arrival of a call from its channel and Stasis arguments (DID, linkedid and,
    from this version's dialplan, its start), or (outbound, callee's number, linkedid, staff
    phone) for a callee who answered."""
    if args and args[0] == OUTBOUND_ARG:
        return _outbound_arrival(channel, args[1:], at)
    did = args[0] if args else ""
    if not _DID.fullmatch(did):
        log.warning("call.bad_dialled_number", call_id=channel.id, length=len(did))
        did = ""
    linkedid = args[1] if len(args) > 1 and UNIQUEID.fullmatch(args[1]) else channel.id
    number = "".join(ch for ch in channel.caller_number if ch.isprintable())[:_MAX_NUMBER]
    return ev.CallArrived(
        at=at,
        channel_id=channel.id,
        linkedid=linkedid,
        caller_number=number or None,
        dialled_number=did,
        dialplan_start=dialplan_start(args[2], at) if len(args) > 2 else None,
    )


def dialplan_start(value: str, at: datetime) -> datetime | None:
    """The dialplan's CALLREC_START as a time, or None if it is malformed or implausibly far
    from ``at`` (the recording's folder is named after it: it must be the day it says)."""
    if not _START.fullmatch(value):
        return None
    start = datetime.fromtimestamp(float(value), UTC)
    return start if abs(start - at) <= _START_DRIFT else None


def _outbound_arrival(channel: ari.Channel, args: tuple[str, ...], at: datetime) -> ev.CallArrived:
    number = args[0] if args else ""
    if not _DID.fullmatch(number) or number == "s":
        log.warning("call.bad_callee_number", call_id=channel.id, length=len(number))
        number = ""
    linkedid = args[1] if len(args) > 1 and UNIQUEID.fullmatch(args[1]) else channel.id
    staff = args[2] if len(args) > 2 and _STAFF.fullmatch(args[2]) else None
    return ev.CallArrived(
        at=at,
        channel_id=channel.id,
        linkedid=linkedid,
        caller_number=number or None,
        dialled_number=number,
        outbound=True,
        agent=staff,
    )


def agent_of(peer: ari.Channel) -> str:
    """The agent's endpoint or extension from a dialled channel's name (PJSIP/agent100-0000001f)."""
    match = _PEER_NAME.fullmatch(peer.name)
    return match.group("agent") if match else peer.name


def translate(event: ari.AriEvent) -> ev.FlowEvent | None:
    """The flow event an ARI event of a followed call means, or None for one it ignores."""
    match event:
        case ari.StasisEnd():
            return ev.LeftStasis(at=event.timestamp)
        case ari.HangupRequested():
            return ev.HangUpRequested(at=event.timestamp)
        case ari.DtmfReceived():
            return ev.DigitPressed(at=event.timestamp, digit=event.digit)
        case ari.PlaybackFinished():
            return ev.PromptFinished(
                at=event.timestamp, playback_id=event.playback_id, failed=event.failed
            )
        case ari.Dial() if event.dialstatus == "ANSWER":
            return ev.AgentAnswered(
                at=event.timestamp, agent=agent_of(event.peer), channel_id=event.peer.id
            )
        case ari.ChannelDestroyed():
            return ev.ChannelEnded(at=event.timestamp)
        case ari.ConsentWithdrawn():
            return ev.Withdrawn(at=event.at)
    return None

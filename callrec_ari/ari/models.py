"""Typed ARI events: the few that callrec acts on, parsed defensively from the WebSocket's JSON.

Asterisk is trusted to speak ARI, but a field can still be missing or of the wrong type (a
version difference, a proxy, a bug). ``parse_event`` returns ``None`` for event types callrec
ignores and raises ``AriEventError`` for a known type that is malformed; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callrec_ari.errors import AriEventError
from callrec_ari.recording.withdrawal import WITHDRAWN_EVENT, parse_unix_time

_TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


@dataclass(frozen=True, kw_only=True)
class Channel:
    """The parts of an ARI channel callrec uses."""

    id: str
    name: str
    state: str
    caller_number: str
    context: str
    app_data: str
    created: datetime
    app_name: str = ""  # the dialplan application it is in: Stasis, StasisBroadcast, Dial...


@dataclass(frozen=True, kw_only=True)
class StasisStart:
    """A channel entered our Stasis application."""

    timestamp: datetime
    channel: Channel
    args: tuple[str, ...]

    @property
    def channel_id(self) -> str:
        """The channel the event belongs to."""
        return self.channel.id


@dataclass(frozen=True, kw_only=True)
class StasisEnd:
    """A channel left our Stasis application (hung up, or sent on with ``continue``)."""

    timestamp: datetime
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class HangupRequested:
    """Something asked a channel to hang up (the caller's BYE, a ``DELETE``). Asterisk sends it
    before the playback the hang-up cuts reports its end, and before ``StasisEnd``."""

    timestamp: datetime
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class DtmfReceived:
    """The caller pressed a key."""

    timestamp: datetime
    channel_id: str
    digit: str


@dataclass(frozen=True, kw_only=True)
class PlaybackFinished:
    """A playback ended: ``done`` (played to the end, stopped, or cut by a hang-up) or
    ``failed`` (media missing, or also cut by a hang-up: Asterisk says either)."""

    timestamp: datetime
    channel_id: str
    playback_id: str
    state: str

    @property
    def failed(self) -> bool:
        """Whether Asterisk could not play the media."""
        return self.state == "failed"


@dataclass(frozen=True, kw_only=True)
class Dial:
    """Progress of a Dial() from one of our channels to an agent."""

    timestamp: datetime
    channel_id: str  # the calling channel
    peer: Channel
    dialstatus: str


@dataclass(frozen=True, kw_only=True)
class ChannelDestroyed:
    """A channel is gone for good."""

    timestamp: datetime
    channel_id: str
    cause: int


@dataclass(frozen=True, kw_only=True)
class ConsentWithdrawn:
    """The dialplan's ``UserEvent(callrec-withdrawn)``: the caller's withdrawal key stopped
    MixMonitor (``at``, the dialplan's own clock; the event's time if it sent none)."""

    timestamp: datetime
    channel_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CallBroadcast:
    """``StasisBroadcast()`` offers a new call to every instance; the first to claim it gets
    its ``StasisStart`` (Asterisk 22.7 and later; README, "Two instances")."""

    timestamp: datetime
    channel_id: str


AriEvent = (
    StasisStart
    | StasisEnd
    | HangupRequested
    | DtmfReceived
    | PlaybackFinished
    | Dial
    | ChannelDestroyed
    | ConsentWithdrawn
    | CallBroadcast
)


def parse_event(data: Any) -> AriEvent | None:
    """Turn one decoded WebSocket message into an event, or ``None`` if callrec ignores it."""
    if not isinstance(data, Mapping):
        raise AriEventError("An ARI event is not a JSON object.")
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return None
    try:
        return parser(data, _timestamp(data.get("timestamp")))
    except (KeyError, TypeError, ValueError) as exc:
        raise AriEventError(f"The ARI event {kind} is malformed ({exc!r}).") from None


def parse_channel(data: Any) -> Channel:
    """Parse an ARI channel object (from an event or ``GET /channels/{id}``)."""
    if not isinstance(data, Mapping):
        raise TypeError("channel is not an object")
    caller = data.get("caller") or {}
    dialplan = data.get("dialplan") or {}
    if not isinstance(caller, Mapping) or not isinstance(dialplan, Mapping):
        raise TypeError("channel caller or dialplan is not an object")
    channel_id = _text(data["id"])
    if not channel_id:
        raise ValueError("channel id is empty")
    return Channel(
        id=channel_id,
        name=_text(data.get("name", "")),
        state=_text(data.get("state", "")),
        caller_number=_text(caller.get("number", "")),
        context=_text(dialplan.get("context", "")),
        app_data=_text(dialplan.get("app_data", "")),
        created=_timestamp(data.get("creationtime")),
        app_name=_text(dialplan.get("app_name", "")),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _timestamp(value: Any) -> datetime:
    """ARI's ``2026-11-24T09:59:01.112+0000``; a missing stamp means "now" rather than a crash."""
    if isinstance(value, str):
        try:
            # fromisoformat reads Asterisk's form at a tenth of strptime's cost (every event).
            stamp = datetime.fromisoformat(value)
            if stamp.tzinfo is not None:
                return stamp.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        for fmt in _TIMESTAMP_FORMATS:
            try:
                return datetime.strptime(value, fmt).astimezone(UTC)
            except (ValueError, OverflowError):  # overflow: a stamp at the calendar's edge
                continue
    return datetime.now(UTC)


def _channel_id(data: Mapping[str, Any]) -> str:
    return parse_channel(data["channel"]).id


def _stasis_start(data: Mapping[str, Any], at: datetime) -> StasisStart:
    args = data.get("args", [])
    if not isinstance(args, list):
        raise TypeError("args is not a list")
    return StasisStart(
        timestamp=at, channel=parse_channel(data["channel"]), args=tuple(_text(a) for a in args)
    )


def _stasis_end(data: Mapping[str, Any], at: datetime) -> StasisEnd:
    return StasisEnd(timestamp=at, channel_id=_channel_id(data))


def _hangup_request(data: Mapping[str, Any], at: datetime) -> HangupRequested:
    return HangupRequested(timestamp=at, channel_id=_channel_id(data))


def _dtmf(data: Mapping[str, Any], at: datetime) -> DtmfReceived:
    return DtmfReceived(timestamp=at, channel_id=_channel_id(data), digit=_text(data["digit"]))


def _playback_finished(data: Mapping[str, Any], at: datetime) -> PlaybackFinished:
    playback = data["playback"]
    target = _text(playback["target_uri"])
    kind, _, target_id = target.partition(":")
    if kind != "channel" or not target_id:
        raise ValueError(f"playback target {target!r} is not a channel")
    return PlaybackFinished(
        timestamp=at,
        channel_id=target_id,
        playback_id=_text(playback["id"]),
        state=_text(playback.get("state", "")),
    )


def _dial(data: Mapping[str, Any], at: datetime) -> Dial | None:
    caller = data.get("caller")
    if caller is None:  # a Dial originated without a calling channel is none of ours
        return None
    return Dial(
        timestamp=at,
        channel_id=parse_channel(caller).id,
        peer=parse_channel(data["peer"]),
        dialstatus=_text(data.get("dialstatus", "")),
    )


def _destroyed(data: Mapping[str, Any], at: datetime) -> ChannelDestroyed:
    cause = data.get("cause", 0)
    return ChannelDestroyed(
        timestamp=at,
        channel_id=_channel_id(data),
        cause=cause if isinstance(cause, int) and not isinstance(cause, bool) else 0,
    )


def _user_event(data: Mapping[str, Any], at: datetime) -> ConsentWithdrawn | None:
    # Other user events (the admin's own dialplan may send some) are none of callrec's.
    if data.get("eventname") != WITHDRAWN_EVENT or data.get("channel") is None:
        return None
    fields = data.get("userevent") or {}
    if not isinstance(fields, Mapping):
        raise TypeError("userevent is not an object")
    stamp = fields.get("at")
    moment = parse_unix_time(stamp) if isinstance(stamp, str) else None
    return ConsentWithdrawn(timestamp=at, channel_id=_channel_id(data), at=moment or at)


def _broadcast(data: Mapping[str, Any], at: datetime) -> CallBroadcast:
    return CallBroadcast(timestamp=at, channel_id=_channel_id(data))


_PARSERS: dict[str, Callable[[Mapping[str, Any], datetime], AriEvent | None]] = {
    "StasisStart": _stasis_start,
    "StasisEnd": _stasis_end,
    "ChannelHangupRequest": _hangup_request,
    "ChannelDtmfReceived": _dtmf,
    "PlaybackFinished": _playback_finished,
    "Dial": _dial,
    "ChannelDestroyed": _destroyed,
    "ChannelUserevent": _user_event,
    "CallBroadcast": _broadcast,
}

# Another WebSocket took our application's name: this one hears nothing more (ari/events.py).
APPLICATION_REPLACED = "ApplicationReplaced"
# The only event types callrec acts on; the application's event filter lets nothing else through.
EVENT_TYPES = (*_PARSERS, APPLICATION_REPLACED)

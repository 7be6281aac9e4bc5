"""What happens to a call, as the consent flow sees it (translated from ARI by the controller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callrec_ari.flow.commands import Command
from callrec_ari.records import RecordingStatus


@dataclass(frozen=True, kw_only=True)
class CallArrived:
    """An inbound call entered the consent step."""

    at: datetime
    channel_id: str
    linkedid: str
    caller_number: str | None
    dialled_number: str
    do_not_record: bool = False  # the caller's number is on the do-not-record list
    # Outbound (seed 004): the callee answered a staff call; dialled_number is the callee's
    # number and agent the staff phone that placed the call.
    outbound: bool = False
    agent: str | None = None
    # When the dialplan saw the call arrive (its CALLREC_START, a Stasis argument), set only
    # when Asterisk's globals let the dialplan name the recording itself (dialplan_paths.py).
    dialplan_start: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PromptFinished:
    """A playback we started has ended; ``failed`` means Asterisk could not play it."""

    at: datetime
    playback_id: str
    failed: bool


@dataclass(frozen=True, kw_only=True)
class DigitPressed:
    """The caller pressed a key."""

    at: datetime
    digit: str


@dataclass(frozen=True, kw_only=True)
class KeyTimeout:
    """The timer a ``StartTimer`` command set has run out (outbound: no agree key in time)."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class LeftStasis:
    """The channel left our Stasis application."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class HangUpRequested:
    """The channel is hanging up (the caller's BYE): it is known before the announcement it
    cuts reports its end, which may then look like one that played through or one that failed."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class AgentAnswered:
    """The call was answered by an agent (a Dial with status ANSWER)."""

    at: datetime
    agent: str
    channel_id: str = ""  # the agent's channel, followed until it hangs up ("": unknown)


@dataclass(frozen=True, kw_only=True)
class AgentLeft:
    """An agent's channel the call follows hung up (after a transfer, or at the end)."""

    at: datetime
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class AgentsFound:
    """The channels bridged with the caller now, each (channel id, agent): who took the call
    over when the caller's channel saw no Dial (an attended transfer)."""

    at: datetime
    found: tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class AgentTold:
    """The tone a ``TellAgent`` asked for played to the agent's end (``played``), or could not
    be played (the agent hung up, Asterisk refused): the call went on either way."""

    at: datetime
    channel_id: str
    agent: str
    played: bool


@dataclass(frozen=True, kw_only=True)
class ChannelEnded:
    """The caller's channel is gone."""

    at: datetime
    # Gone while callrec was not listening (unknown to Asterisk after a reconnect or at
    # adoption): Asterisk may have died and left the recording open (recording/repair.py).
    lost: bool = False


@dataclass(frozen=True, kw_only=True)
class Interrupted:
    """The service lost sight of the call mid-announcement (restart or reconnection)."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class Continued:
    """Asterisk accepted our ``continue``: the call is back in the dialplan."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class ChannelGone:
    """A command found the channel gone: the caller hung up before it took effect."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class CommandFailed:
    """Asterisk refused a command for a reason other than the channel being gone."""

    command: Command
    at: datetime | None = None  # when, for the call's evidence


@dataclass(frozen=True, kw_only=True)
class Withdrawn:
    """The caller pressed the withdrawal key mid-call: the dialplan stopped MixMonitor at ``at``."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class RecordingSettled:
    """MixMonitor is done with the file and it has been checked (or, withdrawn, deleted)."""

    status: RecordingStatus
    duration_seconds: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    withdrawn_at: datetime | None = None  # the dialplan's withdrawal marker's time, if any
    caller_leg_size_bytes: int | None = None  # the legs beside the mix (recording/legs.py)
    caller_leg_sha256: str | None = None
    agent_leg_size_bytes: int | None = None
    agent_leg_sha256: str | None = None
    interrupted_by: str | None = None  # what cut the recording short (repair.PBX), if anything


FlowEvent = (
    PromptFinished
    | DigitPressed
    | KeyTimeout
    | LeftStasis
    | HangUpRequested
    | AgentAnswered
    | AgentLeft
    | AgentsFound
    | AgentTold
    | ChannelEnded
    | Interrupted
    | Continued
    | ChannelGone
    | CommandFailed
    | RecordingSettled
    | Withdrawn
)

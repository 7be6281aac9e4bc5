"""What the consent flow asks the outside world to do. Plain data; the controller executes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from callrec_ari.evidence.facts import PromptHeard


@dataclass(frozen=True, kw_only=True)
class Answer:
    """Answer the caller's channel."""


@dataclass(frozen=True, kw_only=True)
class Play:
    """Play sounds to the caller in one language."""

    playback_id: str
    media: tuple[str, ...]
    language: str
    # What each medium is, by version and audio hash, for the call's evidence (not sent).
    prompts: tuple[PromptHeard, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StopPlayback:
    """Cut a playback short."""

    playback_id: str


@dataclass(frozen=True, kw_only=True)
class Subscribe:
    """Keep the channel's events coming after it leaves Stasis."""


@dataclass(frozen=True, kw_only=True)
class FollowAgent:
    """Follow an agent's channel (subscribe) to hear when it hangs up (``AgentLeft``)."""

    channel_id: str


@dataclass(frozen=True, kw_only=True)
class FindAgents:
    """Look up who the caller is bridged with now and report it (``AgentsFound``)."""


@dataclass(frozen=True, kw_only=True)
class TellAgent:
    """Play ``media`` to an agent who took the call over, heard by them alone (a whisper on
    their channel, ``flow/whisper.py``), and report ``AgentTold``."""

    channel_id: str  # the agent's channel
    agent: str
    media: tuple[str, ...]
    language: str


@dataclass(frozen=True, kw_only=True)
class SetVariables:
    """Set channel variables for the dialplan."""

    variables: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Continue:
    """Hand the call back to the dialplan."""

    context: str
    recorded: bool


@dataclass(frozen=True, kw_only=True)
class Hangup:
    """End the call from our side."""


@dataclass(frozen=True, kw_only=True)
class StartTimer:
    """Report ``KeyTimeout`` after ``seconds`` unless the call is over by then (the flow
    cannot sleep; it ignores a timeout that comes after it moved on)."""

    seconds: float


@dataclass(frozen=True, kw_only=True)
class AwaitRecording:
    """Wait for MixMonitor to close the file, then report ``RecordingSettled``."""

    path: PurePosixPath  # relative to the recordings folder
    discard: bool = False  # the caller withdrew: delete the file instead of measuring it
    # The channel vanished unseen: repair the file first if Asterisk left it open (repair.py).
    lost: bool = False


Command = (
    Answer
    | Play
    | StopPlayback
    | Subscribe
    | FollowAgent
    | FindAgents
    | TellAgent
    | SetVariables
    | Continue
    | Hangup
    | AwaitRecording
    | StartTimer
)

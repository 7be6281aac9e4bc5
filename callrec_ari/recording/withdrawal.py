"""Withdrawal during the call: what the dialplan and callrec agree on, and the deletion.

The caller's withdrawal key runs ``[callrec-withdraw]`` (extensions_callrec.conf) through a
features.conf applicationmap item on the caller's channel. Before it stops MixMonitor it
writes ``<file>.withdrawn`` beside the recording::

    callrec-withdrawn/1|<uniqueid>|<Unix time with ms>

The marker is Asterisk's own record of the withdrawal, so it holds even when callrec was
down at that moment: whoever settles the recording (the call's end, the adoption of a call
after a restart) or sweeps orphans finds it and deletes the audio. Then the dialplan sends a
``UserEvent`` named ``WITHDRAWN_EVENT``, which reaches the service on the channel it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callrec_ari.recording.legs import leg_files

MARKER_SUFFIX = ".withdrawn"
WITHDRAWN_EVENT = "callrec-withdrawn"
_FORMAT = "callrec-withdrawn/1"
_MAX_MARKER = 256  # a marker is one short line; anything longer is not ours
# DYNAMIC_FEATURES separates names with "#", so no key's item may be named with it.
_KEY_NAMES = {"*": "star", "#": "pound"}


def feature_name(decline_key: str) -> str:
    """The features.conf applicationmap item that withdraws with ``decline_key`` (0-9, * or #)."""
    return f"callrec-withdraw-{_KEY_NAMES.get(decline_key, decline_key)}"


def marker_path(recording: Path) -> Path:
    """Where the dialplan writes the withdrawal marker of ``recording``."""
    return recording.with_name(recording.name + MARKER_SUFFIX)


def parse_unix_time(text: str) -> datetime | None:
    """A Unix time with milliseconds (``STRFTIME(,,%s.%3q)``) as UTC, or None if it is not one."""
    try:
        seconds = float(text.strip())
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def withdrawn_at(recording: Path) -> datetime | None:
    """When the caller withdrew during the call of ``recording``, or None if they did not.

    A marker that cannot be read as ours still means a withdrawal (the dialplan writes it
    only then): its time is then the marker's last change.
    """
    marker = marker_path(recording)
    try:
        with marker.open("rb") as handle:
            text = handle.read(_MAX_MARKER).decode("ascii", errors="replace")
        changed = datetime.fromtimestamp(marker.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None
    fields = text.strip().split("|")
    moment = parse_unix_time(fields[2]) if len(fields) == 3 and fields[0] == _FORMAT else None
    return moment or changed


@dataclass(frozen=True, kw_only=True)
class Discarded:
    """What deleting a withdrawn recording found."""

    withdrawn_at: datetime | None  # from the marker, if there was one
    audio_existed: bool  # whether there was a WAV (the mix or a leg) to delete


def discard(recording: Path, done_marker: Path) -> Discarded:
    """Delete the recording, its two legs, MixMonitor's ``.done`` marker and the withdrawal
    marker, for good: a withdrawn call leaves no audio of either party.

    The withdrawal marker goes last, so a crash half-way leaves it to say why the rest must go.
    """
    moment = withdrawn_at(recording)
    existed = any(path.exists() for path in (recording, *leg_files(recording)))
    recording.unlink(missing_ok=True)
    for leg in leg_files(recording):
        leg.unlink(missing_ok=True)
    done_marker.unlink(missing_ok=True)
    marker_path(recording).unlink(missing_ok=True)
    return Discarded(withdrawn_at=moment, audio_existed=existed)

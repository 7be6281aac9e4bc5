"""The two directions of a recorded call, written by MixMonitor beside the mix.

One MixMonitor writes three files of the same format (8 kHz, 16-bit, mono WAV) side by side::

    YYYY/MM/DD/<uniqueid>.wav          the mix: both voices (what staff listen to)
    YYYY/MM/DD/<uniqueid>.caller.wav   r(): the audio *read* from the recorded channel
    YYYY/MM/DD/<uniqueid>.agent.wav    t(): the audio *written* to it

MixMonitor runs on the data subject's channel: on an inbound call the caller's, on an
outbound call (``[callrec-outbound-record]``) the callee's. So the ``caller`` leg always holds
the data subject's own voice (the outside party: an inbound caller or an outbound callee) and
the ``agent`` leg the staff member's, and a copy for the data subject can hold their voice
alone (seed 004: a copy needs the consent of all parties). Only the mix's path is stored on
the row; the legs' names follow from it, so everything that deletes the mix (retention,
erasure, withdrawal, the orphan sweep) finds and deletes its legs by these rules.
"""

from __future__ import annotations

from pathlib import Path

from callrec_ari.errors import RecordingError
from callrec_ari.recording.paths import service_path

CALLER = "caller"  # the data subject: an inbound caller, or an outbound call's callee
AGENT = "agent"  # the staff member who answered (inbound) or dialled (outbound)
LEGS = (CALLER, AGENT)
_WAV = ".wav"


def leg_path(relative_path: str, leg: str) -> str:
    """``<name>.<leg>.wav`` beside the mix ``<name>.wav``; ``RecordingError`` if not a mix."""
    if leg not in LEGS:
        raise RecordingError(f"{leg!r} is not a leg of a recording (caller or agent).")
    if not relative_path.endswith(_WAV) or mix_of(relative_path) is not None:
        raise RecordingError(f"The recording path {relative_path!r} is not a call's mix.")
    return f"{relative_path.removesuffix(_WAV)}.{leg}{_WAV}"


def caller_leg(relative_path: str) -> str:
    """The leg holding only the data subject's voice, beside the mix ``relative_path``."""
    return leg_path(relative_path, CALLER)


def agent_leg(relative_path: str) -> str:
    """The leg holding only the staff member's voice, beside the mix ``relative_path``."""
    return leg_path(relative_path, AGENT)


def legs_of(relative_path: str) -> tuple[str, ...]:
    """Both legs of the mix ``relative_path``: caller first, then agent."""
    return tuple(leg_path(relative_path, leg) for leg in LEGS)


def mix_of(name: str) -> str | None:
    """The mix a leg's name or path belongs to, or None if ``name`` is not a leg's."""
    for leg in LEGS:
        suffix = f".{leg}{_WAV}"
        if name.endswith(suffix) and len(name.rpartition("/")[2]) > len(suffix):
            return name.removesuffix(suffix) + _WAV
    return None


def leg_files(mix: Path) -> tuple[Path, ...]:
    """The legs' files beside the mix file ``mix`` (which need not exist)."""
    return tuple(mix.with_name(Path(leg_path(mix.name, leg)).name) for leg in LEGS)


def caller_audio(recordings_dir: Path, relative_path: str) -> Path:
    """The file holding only the data subject's voice of the call recorded at ``relative_path``.

    Raises ``RecordingError`` if the path leaves ``recordings_dir`` or the call has no caller
    leg (recorded before legs were written, or already deleted): never falls back to the mix,
    which holds the agent's voice too.
    """
    path = service_path(recordings_dir, caller_leg(relative_path))
    if not path.is_file():
        raise RecordingError(
            f"The recording {relative_path} has no caller-only audio ({path.name} is missing)."
        )
    return path

"""Settle a finished recording: wait until MixMonitor has closed the WAV, then measure it.

The dialplan gives MixMonitor a post-process command that creates ``<file>.done`` once the file
is closed, so a present marker means the header and data are final. Size, duration and SHA-256
are the evidence that the file is later unchanged (seed 000 §2).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from callrec_ari.errors import RecordingError
from callrec_ari.records import RecordingStatus

MARKER_SUFFIX = ".done"
_WAV_HEADER = 44
_CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class WavFacts:
    """What a closed WAV file is: its size, length and fingerprint."""

    size_bytes: int
    duration_seconds: float
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Settled:
    """The outcome of waiting for one recording."""

    status: RecordingStatus
    facts: WavFacts | None = None
    reason: str = ""


def marker_for(path: Path) -> Path:
    """The marker MixMonitor's post-process command creates when ``path`` is closed."""
    return path.with_name(path.name + MARKER_SUFFIX)


def inspect_wav(path: Path) -> WavFacts:
    """Measure a closed WAV; ``RecordingError`` if it is missing, truncated or not a WAV."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            size = 0
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
            expected = frames * wav.getsampwidth() * wav.getnchannels()
    except FileNotFoundError:
        raise RecordingError(f"The recording {path} does not exist.") from None
    except (OSError, wave.Error, EOFError) as exc:
        raise RecordingError(f"The recording {path} is not a readable WAV file ({exc}).") from None
    if rate <= 0 or size < _WAV_HEADER + expected:
        raise RecordingError(f"The recording {path} is truncated ({size} bytes).")
    return WavFacts(size_bytes=size, duration_seconds=frames / rate, sha256=digest.hexdigest())


async def settle(path: Path, *, wait_seconds: float, poll: float = 0.05) -> Settled:
    """Wait up to ``wait_seconds`` for the marker, then measure the file and drop the marker."""
    marker = marker_for(path)
    deadline = time.monotonic() + wait_seconds
    while not marker.exists():
        if time.monotonic() >= deadline:
            return Settled(
                status=RecordingStatus.FAILED,
                reason=f"MixMonitor did not close {path} within {wait_seconds:.0f} seconds",
            )
        await asyncio.sleep(poll)
    return await asyncio.to_thread(_measure, path, marker)


def _measure(path: Path, marker: Path) -> Settled:
    try:
        if not path.exists():
            # Option b records only while bridged: a call never answered has no audio at all.
            return Settled(status=RecordingStatus.EMPTY, reason="the call was never bridged")
        try:
            facts = inspect_wav(path)
        except RecordingError as exc:
            return Settled(status=RecordingStatus.FAILED, reason=str(exc))
        if facts.duration_seconds == 0:
            return Settled(status=RecordingStatus.EMPTY, facts=facts, reason="no audio frames")
        return Settled(status=RecordingStatus.COMPLETE, facts=facts)
    finally:
        marker.unlink(missing_ok=True)

"""A recording's waveform as a small SVG: peaks per slice of time, read without decoding
the whole file into memory (an encrypted one is decrypted as it is read). Pure computation on
a WAV file; no I/O beyond reading it."""

from __future__ import annotations

import array
import sys
import wave
from pathlib import Path

from callrec_ari.errors import RecordingError
from callrec_ari.recording.audio import StoredAudio

WIDTH = 600
HEIGHT = 60
_STEP = 4  # one sample in four is enough to see the peaks of speech at 8 kHz and above
_FULL_SCALE = 32768


def peaks(audio: Path | StoredAudio, columns: int = WIDTH) -> list[float]:
    """The loudest level (0..1) in each of ``columns`` equal slices of a 16-bit PCM WAV
    (a plain file's path, or a stored recording, encrypted or not)."""
    if isinstance(audio, Path):
        audio = StoredAudio(path=audio)
    path = audio.path
    try:
        with audio.open() as handle, wave.open(handle, "rb") as wav:
            if wav.getsampwidth() != 2:
                raise RecordingError(f"Recording {path.name} is not 16-bit PCM.")
            channels = wav.getnchannels()
            frames = wav.getnframes()
            per_column = max(1, frames // columns)
            levels = []
            for _ in range(min(columns, max(frames, 1))):
                chunk = wav.readframes(per_column)
                if not chunk:
                    break
                samples = array.array("h")
                samples.frombytes(chunk[: len(chunk) - len(chunk) % 2])
                if sys.byteorder == "big":  # WAV is little-endian
                    samples.byteswap()
                picked = samples[:: _STEP * channels] or samples
                levels.append(max(abs(value) for value in picked) / _FULL_SCALE)
    except (wave.Error, EOFError, OSError) as exc:
        raise RecordingError(f"Recording {path.name} cannot be read: {exc}.") from None
    return levels


def svg(levels: list[float], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The levels as a mirrored bar outline (an SVG document, no script)."""
    middle = height / 2
    count = max(len(levels), 1)
    step = width / count
    top = [f"{i * step:.1f},{middle - level * middle:.1f}" for i, level in enumerate(levels)]
    indexed = list(enumerate(levels))
    bottom = [f"{i * step:.1f},{middle + level * middle:.1f}" for i, level in reversed(indexed)]
    points = " ".join(top + bottom) or f"0,{middle} {width},{middle}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="none" role="img" '
        'aria-label="waveform">'
        f'<line x1="0" y1="{middle}" x2="{width}" y2="{middle}" stroke="#d8dce4"/>'
        f'<polygon points="{points}" fill="#1f5fbf"/></svg>'
    )

"""Audio files for tests."""

from __future__ import annotations

import wave
from pathlib import Path


def write_wav(path: Path, seconds: float, sample: bytes = b"\x10\x00") -> None:
    """Write an 8 kHz 16-bit mono WAV of ``seconds`` repeating ``sample``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(sample * int(8000 * seconds))

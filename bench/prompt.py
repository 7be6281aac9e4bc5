"""The benchmark's short prompt: a one-second tone, so a call's setup is not mostly listening."""

from __future__ import annotations

import array
import math
import wave
from pathlib import Path

from callrec_ari.prompts import install_prompts, prompt_duration
from callrec_ari.prompts.audio import SAMPLE_RATE

PROMPT_NAME = "bench"
_TONE_HZ = 440.0
_AMPLITUDE = 16384  # -6 dBFS
_FADE_SECONDS = 0.01


def write_tone(path: Path, seconds: float) -> None:
    """Write a 440 Hz tone with short fades as an 8 kHz, 16-bit, mono WAV."""
    frames = round(seconds * SAMPLE_RATE)
    fade = round(_FADE_SECONDS * SAMPLE_RATE)
    samples = array.array(
        "h",
        (
            round(
                _AMPLITUDE
                * min(1.0, i / fade, (frames - 1 - i) / fade)
                * math.sin(2 * math.pi * _TONE_HZ * i / SAMPLE_RATE)
            )
            for i in range(frames)
        ),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples.tobytes())


def install_bench_prompt(
    source_dir: Path, sounds_dir: Path, language: str, seconds: float
) -> float:
    """Build ``<source_dir>/<language>/bench.wav``, install it for Asterisk; return its length.

    Asterisk then plays it as ``sound:callrec/bench`` (callrec) or ``callrec/bench`` (dialplan).
    """
    wav = source_dir / language / f"{PROMPT_NAME}.wav"
    write_tone(wav, seconds)
    install_prompts(source_dir, sounds_dir, languages=[language])
    return prompt_duration(wav)

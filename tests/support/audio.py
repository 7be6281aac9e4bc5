"""Audio files for tests."""

from __future__ import annotations

import array
import math
import sys
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


def write_speech_like_wav(path: Path, seconds: float) -> None:
    """Write an 8 kHz 16-bit mono WAV that rises and falls like speech: a 300 Hz tone under
    a syllable-rate envelope with pauses, so a waveform drawn from it has a shape."""
    rate = 8000
    frames = array.array("h")
    for n in range(int(rate * seconds)):
        t = n / rate
        syllables = max(0.0, math.sin(2 * math.pi * 2.5 * t))  # ~5 bursts a second, gaps between
        phrase = 0.55 + 0.45 * math.sin(2 * math.pi * 0.4 * t)  # louder and softer phrases
        frames.append(int(20000 * syllables * phrase * math.sin(2 * math.pi * 300 * t)))
    if sys.byteorder == "big":
        frames.byteswap()  # WAV samples are little-endian
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())


def read_samples(path: Path) -> array.array[int]:
    """The samples of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1), path
        samples = array.array("h", wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def tone_power(samples: array.array[int], hz: float, rate: int = 8000) -> float:
    """The mean power of ``samples`` at ``hz`` (Goertzel), normalised per sample: a sine of
    amplitude A gives about A²/4, anything else near 0."""
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    return power / max(len(samples), 1) ** 2


def open_recording(path: Path) -> None:
    """Make the WAV at ``path`` look as Asterisk leaves it while still recording: both size
    fields of its header at 0 (``format_wav.c`` fills them in as it closes the file)."""
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = bytes(4)
    path.write_bytes(bytes(data))


def close_recording(path: Path) -> None:
    """Fill in the header's sizes of ``path`` as Asterisk does when it closes the file."""
    data = bytearray(path.read_bytes())
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    data[40:44] = (len(data) - 44).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def write_tone_wav(path: Path, hz: float, seconds: float, amplitude: int = 8000) -> None:
    """Write an 8 kHz 16-bit mono WAV holding a steady ``hz`` sine of ``amplitude``."""
    rate = 8000
    frames = array.array(
        "h",
        (
            int(amplitude * math.sin(2 * math.pi * hz * n / rate))
            for n in range(int(rate * seconds))
        ),
    )
    if sys.byteorder == "big":
        frames.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())


def rms_dbfs(samples: array.array[int]) -> float:
    """The root-mean-square level of ``samples`` in dB below full scale (digital silence:
    minus infinity)."""
    if not samples:
        return -math.inf
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    return 20 * math.log10(rms / 32768) if rms else -math.inf


def strongest_tone(
    samples: array.array[int], low: float, high: float, *, step: float = 4.0, window: int = 800
) -> tuple[float, float]:
    """The frequency between ``low`` and ``high`` with the most power (``tone_power``) in the
    first ``window`` samples, and that power. A tenth of a second at 8 kHz hears a tone up to
    about 5 Hz from each frequency tried, so a ``step`` of 4 Hz misses none."""
    part = samples[:window]
    count = int((high - low) / step) + 1
    return max(
        ((low + step * n, tone_power(part, low + step * n)) for n in range(count)),
        key=lambda found: found[1],
    )

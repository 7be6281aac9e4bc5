"""Audio made on the spot with ffmpeg, and small prompt folders to build."""

from __future__ import annotations

import math
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

REPO_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
LANGUAGES = ("en", "fi", "pl", "ro", "sv")
NAMES = ("announcement", "decline-hint", "declined", "not-recorded")
# Every WAV a language folder holds: the spoken prompts and the agent's beep (no text).
INSTALLED = ("agent-tone", *NAMES)


def make_tone(
    path: Path,
    *,
    seconds: float = 1.5,
    rate: int = 44100,
    channels: int = 2,
    gain_db: float = -6.0,
    codec: str | None = None,
) -> Path:
    """Write a 440 Hz tone (a sine at -18 dBFS plus ``gain_db``) in the format of the suffix."""
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds}"]
    command += ["-af", f"volume={gain_db}dB", "-ac", str(channels)]
    command += ["-c:a", codec] if codec else []
    subprocess.run([*command, str(path)], check=True)
    return path


def wav_shape(path: Path) -> tuple[int, int, int]:
    """Sample rate, channels and bytes per sample of a WAV file."""
    with wave.open(str(path), "rb") as wav:
        return wav.getframerate(), wav.getnchannels(), wav.getsampwidth()


def peak_dbfs(path: Path) -> float:
    """The loudest sample of a 16-bit WAV, in dB below full scale."""
    with wave.open(str(path), "rb") as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    peak = max(abs(sample) for sample in samples)
    return 20 * math.log10(peak / 32768) if peak else -math.inf


@pytest.fixture
def prompt_dir(tmp_path: Path) -> Path:
    """A prompt folder holding one short English text, not built yet."""
    folder = tmp_path / "prompts" / "en"
    folder.mkdir(parents=True)
    (folder / "announcement.txt").write_text("This call is recorded.\n", encoding="utf-8")
    return folder.parent

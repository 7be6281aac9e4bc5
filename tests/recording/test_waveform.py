"""The waveform: loud where the recording is loud, quiet where it is quiet, and clear errors."""

from __future__ import annotations

import array
import wave
from pathlib import Path

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.waveform import peaks, svg


def write(path: Path, halves: tuple[int, int], seconds: float = 2.0) -> None:
    """A mono 8 kHz WAV: the first half at one amplitude, the second at another."""
    frames = int(8000 * seconds)
    samples = array.array(
        "h",
        [
            (halves[0] if i < frames // 2 else halves[1]) * (1 if i % 2 else -1)
            for i in range(frames)
        ],
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.tobytes())


def test_the_loud_half_shows_loud(tmp_path: Path):
    """Silence then a loud tone: the first columns flat, the last near full scale."""
    path = tmp_path / "call.wav"
    write(path, (0, 16000))
    levels = peaks(path, columns=100)
    assert len(levels) == 100
    assert max(levels[:45]) == 0
    assert min(levels[55:]) == pytest.approx(16000 / 32768, rel=0.01)


def test_the_svg_has_no_script_and_one_shape(tmp_path: Path):
    """Plain shapes only: safe to show as an image under the strict CSP."""
    drawing = svg([0.0, 0.5, 1.0])
    assert drawing.startswith("<svg")
    assert "<script" not in drawing
    assert drawing.count("<polygon") == 1


def test_a_truncated_or_foreign_file_is_one_clear_error(tmp_path: Path):
    """Not a WAV, or cut short in its header: RecordingError naming the file."""
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    with pytest.raises(RecordingError, match=r"bad\.wav"):
        peaks(bad)

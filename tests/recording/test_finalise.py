"""Settling a recording: wait for MixMonitor's marker, then measure the WAV."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.finalise import inspect_wav, marker_for, settle
from callrec_ari.records import RecordingStatus
from tests.support.audio import write_wav


def test_a_closed_wav_is_measured(tmp_path: Path):
    """Size, duration and SHA-256 are those of the file on disk."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 2.5)
    facts = inspect_wav(wav)
    assert facts.duration_seconds == pytest.approx(2.5)
    assert facts.size_bytes == wav.stat().st_size
    assert facts.sha256 == hashlib.sha256(wav.read_bytes()).hexdigest()


def test_a_truncated_wav_is_an_error(tmp_path: Path):
    """A file whose header promises more audio than it holds is reported, not trusted."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 2.0)
    wav.write_bytes(wav.read_bytes()[:10_000])
    with pytest.raises(RecordingError, match="truncated"):
        inspect_wav(wav)


def test_garbage_is_not_a_wav(tmp_path: Path):
    """A file that is not a WAV at all is reported with its name."""
    wav = tmp_path / "call.wav"
    wav.write_bytes(b"not a wav file")
    with pytest.raises(RecordingError, match=r"call\.wav"):
        inspect_wav(wav)


async def test_settle_waits_for_the_marker_and_removes_it(tmp_path: Path):
    """The file is measured only after MixMonitor's post-process marker appears."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    waiting = asyncio.create_task(settle(wav, wait_seconds=5, poll=0))
    for _ in range(50):  # with poll=0 each turn of the loop is one more look for the marker
        await asyncio.sleep(0)
    assert not waiting.done()
    marker_for(wav).touch()
    settled = await waiting
    assert settled.status == RecordingStatus.COMPLETE
    assert settled.facts is not None
    assert settled.facts.duration_seconds == pytest.approx(1.0)
    assert not marker_for(wav).exists()


async def test_no_marker_in_time_is_a_failed_recording(tmp_path: Path):
    """If MixMonitor never closes the file, the recording is marked failed with a reason."""
    settled = await settle(tmp_path / "call.wav", wait_seconds=0.05, poll=0.01)
    assert settled.status == RecordingStatus.FAILED
    assert "did not close" in settled.reason


async def test_marker_without_a_file_means_no_audio(tmp_path: Path):
    """A call never bridged leaves a marker but no file: an empty recording."""
    wav = tmp_path / "call.wav"
    marker_for(wav).touch()
    settled = await settle(wav, wait_seconds=1, poll=0.01)
    assert settled.status == RecordingStatus.EMPTY


async def test_a_truncated_file_after_the_marker_is_failed(tmp_path: Path):
    """A marker next to a broken file gives a failed recording, not a crash."""
    wav = tmp_path / "call.wav"
    wav.write_bytes(b"RIFF")
    marker_for(wav).touch()
    settled = await settle(wav, wait_seconds=1, poll=0.01)
    assert settled.status == RecordingStatus.FAILED
    assert "call.wav" in settled.reason

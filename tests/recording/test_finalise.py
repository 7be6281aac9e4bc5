"""Settling a recording: wait until Asterisk has closed the WAV (its header says so, or an
older dialplan's marker does), then measure it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.finalise import (
    inspect_wav,
    marker_for,
    recording_closed,
    settle,
    wav_closed,
)
from callrec_ari.records import RecordingStatus
from tests.support.audio import close_recording, open_recording, write_wav


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


def test_the_header_tells_an_open_recording_from_a_closed_one(tmp_path: Path):
    """Sizes still 0 in the header: open; sizes matching the file: closed; no file: None."""
    wav = tmp_path / "call.wav"
    assert wav_closed(wav) is None
    write_wav(wav, 1.0)
    assert wav_closed(wav) is True
    open_recording(wav)
    assert wav_closed(wav) is False
    close_recording(wav)
    with wav.open("ab") as handle:  # Asterisk pads an odd length after the header is final
        handle.write(b"\x00")
    assert wav_closed(wav) is True
    wav.write_bytes(b"RIFF")
    assert wav_closed(wav) is False


def test_a_recording_is_closed_only_when_its_legs_are(tmp_path: Path):
    """The mix may be closed before its legs: the recording is closed once all three are."""
    wav = tmp_path / "call.wav"
    legs = [tmp_path / "call.caller.wav", tmp_path / "call.agent.wav"]
    for file in (wav, *legs):
        write_wav(file, 1.0)
    open_recording(legs[1])
    assert recording_closed(wav) is False
    close_recording(legs[1])
    assert recording_closed(wav) is True


async def test_settle_waits_until_asterisk_closes_the_file(tmp_path: Path):
    """A file whose header is not final yet is measured only once Asterisk has closed it."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    open_recording(wav)
    waiting = asyncio.create_task(settle(wav, wait_seconds=5, poll=0))
    for _ in range(50):  # with poll=0 each turn of the loop is one more look at the header
        await asyncio.sleep(0)
    assert not waiting.done()
    close_recording(wav)
    settled = await waiting
    assert settled.status == RecordingStatus.COMPLETE
    assert settled.facts is not None
    assert settled.facts.duration_seconds == pytest.approx(1.0)


async def test_an_older_dialplans_marker_counts_and_is_removed(tmp_path: Path):
    """A ``.done`` marker (MixMonitor's post-process command in an older dialplan) still
    means closed, and goes once the file is measured."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    open_recording(wav)
    marker_for(wav).touch()
    settled = await settle(wav, wait_seconds=1, poll=0.01)
    assert settled.status == RecordingStatus.FAILED  # the header was never final: truncated
    assert not marker_for(wav).exists()


async def test_a_file_never_closed_in_time_is_a_failed_recording(tmp_path: Path):
    """If Asterisk never closes the file, the recording is marked failed with a reason."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    open_recording(wav)
    settled = await settle(wav, wait_seconds=0.05, poll=0.01)
    assert settled.status == RecordingStatus.FAILED
    assert "did not close" in settled.reason


async def test_no_file_at_all_means_no_audio(tmp_path: Path):
    """A call never bridged leaves no file: an empty recording, at once."""
    settled = await settle(tmp_path / "call.wav", wait_seconds=5, poll=0.01)
    assert settled.status == RecordingStatus.EMPTY


async def test_a_closed_file_without_audio_is_believed_on_a_second_look(tmp_path: Path):
    """A header-only file looks the same open or closed: settled as empty after one more
    look, not at the first."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 0.0)
    settled = await settle(wav, wait_seconds=5, poll=0.01)
    assert settled.status == RecordingStatus.EMPTY


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


async def test_legs_beside_an_empty_mix_are_measured_all_the_same(tmp_path: Path):
    """A mix without audio settles as empty, but legs that hold audio are measured: the row
    knows every file of personal data by its hash."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 0.0)
    write_wav(tmp_path / "call.caller.wav", 0.5)
    write_wav(tmp_path / "call.agent.wav", 0.0)
    settled = await settle(wav, wait_seconds=5, poll=0.01)
    assert settled.status == RecordingStatus.EMPTY
    assert settled.caller_leg is not None
    assert settled.caller_leg.duration_seconds == pytest.approx(0.5)
    assert settled.agent_leg is not None

"""Repairing a recording Asterisk left open when it died: header sizes from the file's length."""

from __future__ import annotations

import asyncio
import os
import wave
from pathlib import Path

import pytest

from callrec_ari.recording.finalise import inspect_wav, settle, wav_closed
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.repair import (
    HEADER,
    Outcome,
    Sizes,
    closed,
    header_sizes,
    interrupted_by,
    marker_path,
    patched,
    repair_file,
    repair_left_by_crash,
    repaired_sizes,
)
from callrec_ari.records import RecordingStatus
from tests.support.audio import open_recording, write_wav

PROMPT = Path(__file__).parents[2] / "prompts" / "en" / "decline-hint.wav"
FRAMES = 300  # a small real WAV: the first 300 samples of a shipped prompt


@pytest.fixture(name="small_wav")
def small_wav_fixture(tmp_path: Path) -> bytes:
    """A small real 8 kHz 16-bit mono WAV, as bytes, with its header as Asterisk leaves it
    open (both sizes 0)."""
    with wave.open(str(PROMPT), "rb") as source:
        params, frames = source.getparams(), source.readframes(FRAMES)
    path = tmp_path / "small.wav"
    with wave.open(str(path), "wb") as small:
        small.setparams(params)
        small.writeframes(frames)
    open_recording(path)
    return path.read_bytes()


def audio_of(path: Path) -> tuple[int, bytes]:
    """The frame count and audio a standard reader finds in the WAV at ``path``."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes(), wav.readframes(wav.getnframes())


def test_the_sizes_follow_from_the_length(small_wav: bytes):
    """Whole 16-bit samples count as data; the RIFF size is the data's plus 36."""
    assert repaired_sizes(small_wav, HEADER + 600) == Sizes(riff=636, data=600)
    assert repaired_sizes(small_wav, HEADER + 601) == Sizes(riff=636, data=600)
    assert repaired_sizes(small_wav, HEADER) == Sizes(riff=36, data=0)


def test_no_header_cannot_be_repaired(small_wav: bytes):
    """Shorter than a header, or not a PCM WAV's header: nothing to repair from."""
    assert repaired_sizes(small_wav[:43], 43) is None
    assert repaired_sizes(b"\x00" * HEADER, 1000) is None
    assert repaired_sizes(small_wav.replace(b"data", b"LIST", 1), 1000) is None


def test_a_header_cut_at_every_byte_is_repaired_by_the_same_rule(small_wav: bytes):
    """For every length the file may have been cut at, the patched header is closed and
    counts exactly the whole samples present; shorter than a header, None."""
    for length in range(len(small_wav) + 1):
        sizes = repaired_sizes(small_wav[:HEADER], length)
        if length < HEADER:
            assert sizes is None
            continue
        assert sizes is not None
        assert sizes.data == (length - HEADER) & ~1
        assert closed(sizes, length)
        assert header_sizes(patched(small_wav, sizes)) == sizes


def test_files_cut_at_every_byte_play_after_repair(tmp_path: Path, small_wav: bytes):
    """The mix and both legs, cut at every byte boundary, open in a standard reader after
    repair with every whole sample they hold, and no byte of audio changed."""
    mix = tmp_path / "call.wav"
    files = (mix, *leg_files(mix))
    for length in range(len(small_wav) + 1):
        cut = small_wav[:length]
        for path in files:
            path.write_bytes(cut)
        outcomes = {repair_file(path) for path in files}
        if length < HEADER:
            assert outcomes == {Outcome.UNREPAIRABLE}
            assert all(path.read_bytes() == cut for path in files)
            continue
        assert outcomes == {Outcome.REPAIRED} or length == HEADER
        whole = (length - HEADER) // 2
        for path in files:
            assert wav_closed(path)
            assert audio_of(path) == (whole, small_wav[HEADER : HEADER + 2 * whole])
            assert path.read_bytes()[HEADER:] == cut[HEADER:]
            assert inspect_wav(path).duration_seconds == pytest.approx(whole / 8000)


def test_a_closed_file_is_left_alone(tmp_path: Path):
    """A WAV Asterisk closed (with its pad byte after odd data) is not rewritten."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 0.5)
    before = wav.read_bytes()
    assert repair_file(wav) == Outcome.CLOSED
    assert wav.read_bytes() == before
    assert repair_file(tmp_path / "none.wav") == Outcome.MISSING


def test_the_repair_keeps_the_last_write_time(tmp_path: Path):
    """The file's modification time is when its audio ended, so the repair puts it back."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 0.5)
    open_recording(wav)
    os.utime(wav, ns=(1_700_000_000_123_000_000, 1_700_000_000_123_000_000))
    assert repair_file(wav) == Outcome.REPAIRED
    assert wav.stat().st_mtime_ns == 1_700_000_000_123_000_000


async def test_a_recording_left_open_is_repaired_marked_and_settles_complete(tmp_path: Path):
    """A mix and legs left open settle at once as complete, cut by the PBX, and the marker
    that said so is gone once the recording is settled."""
    mix = tmp_path / "call.wav"
    for path in (mix, *leg_files(mix)):
        write_wav(path, 1.5)
        open_recording(path)
    assert await repair_left_by_crash(mix, quiet_seconds=0.2)
    assert interrupted_by(mix) == "pbx"
    settled = await settle(mix, wait_seconds=0)
    assert settled.status == RecordingStatus.COMPLETE
    assert settled.interrupted_by == "pbx"
    assert settled.facts is not None
    assert settled.facts.duration_seconds == pytest.approx(1.5)
    assert settled.caller_leg is not None
    assert settled.agent_leg is not None
    assert not marker_path(mix).exists()


async def test_a_closed_recording_is_not_marked(tmp_path: Path):
    """A recording Asterisk closed itself (the channel ended normally) is not touched."""
    mix = tmp_path / "call.wav"
    write_wav(mix, 1.0)
    assert not await repair_left_by_crash(mix, quiet_seconds=0.2)
    assert not marker_path(mix).exists()
    assert (await settle(mix, wait_seconds=0)).interrupted_by is None


async def test_a_file_still_growing_is_never_repaired(tmp_path: Path):
    """A file that changes while it is watched has a live writer: it is left to close."""
    mix = tmp_path / "call.wav"
    write_wav(mix, 1.0)
    open_recording(mix)

    async def keep_writing() -> None:
        for _ in range(20):
            await asyncio.sleep(0.05)
            with mix.open("ab") as handle:
                handle.write(b"\x01\x00" * 160)

    writer = asyncio.create_task(keep_writing())
    assert not await repair_left_by_crash(mix, quiet_seconds=0.5)
    await writer
    assert not wav_closed(mix)
    assert not marker_path(mix).exists()


async def test_a_file_that_cannot_be_repaired_fails_at_once(tmp_path: Path):
    """A mix with no WAV header settles as failed, saying the PBX stopped, without waiting."""
    mix = tmp_path / "call.wav"
    mix.write_bytes(b"\x00" * 5000)
    assert await repair_left_by_crash(mix, quiet_seconds=0.1)
    settled = await asyncio.wait_for(settle(mix, wait_seconds=30), 5)
    assert settled.status == RecordingStatus.FAILED
    assert settled.interrupted_by == "pbx"
    assert "Asterisk stopped during the call" in settled.reason
    assert mix.read_bytes() == b"\x00" * 5000

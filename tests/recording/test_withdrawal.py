"""The withdrawal marker the dialplan writes, and deleting a withdrawn recording."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callrec_ari.recording.finalise import marker_for, settle
from callrec_ari.recording.withdrawal import (
    discard,
    feature_name,
    marker_path,
    withdrawn_at,
)
from callrec_ari.records import RecordingStatus
from tests.support.audio import close_recording, open_recording, write_wav

PRESSED = datetime.fromtimestamp(1795514353.847, UTC)


def withdrawn(wav: Path, content: str = "callrec-withdrawn/1|1795514341.6|1795514353.847") -> Path:
    """A recording as the dialplan leaves it after the caller's key: WAV, .done, .withdrawn."""
    write_wav(wav, 1.0)
    marker_for(wav).touch()
    marker_path(wav).write_text(content, encoding="ascii")
    return wav


def left_in(folder: Path) -> list[str]:
    """The names of the files still in ``folder``."""
    return sorted(path.name for path in folder.iterdir())


def test_every_key_has_an_item_name_without_a_hash():
    """DYNAMIC_FEATURES separates names with #, so * and # are spelt out."""
    names = {key: feature_name(key) for key in "0123456789*#"}
    assert names["9"] == "callrec-withdraw-9"
    assert names["*"] == "callrec-withdraw-star"
    assert names["#"] == "callrec-withdraw-pound"
    assert not any("#" in name or "*" in name for name in names.values())


def test_the_items_of_every_key_are_in_the_features_sample():
    """Whatever key the admin configures, features.conf.sample has its item."""
    sample = (Path(__file__).resolve().parents[2] / "dialplan" / "features.conf.sample").read_text()
    for key in "0123456789*#":
        assert f"{feature_name(key)} => {key},self,Gosub(callrec-withdraw,s,1)" in sample


def test_the_marker_gives_the_dialplans_time(tmp_path: Path):
    """The time in the marker is when the dialplan stopped MixMonitor."""
    wav = withdrawn(tmp_path / "1795514341.6.wav")
    assert withdrawn_at(wav) == PRESSED


def test_no_marker_means_no_withdrawal(tmp_path: Path):
    """A recording without the marker was not withdrawn."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    assert withdrawn_at(wav) is None


@pytest.mark.parametrize("content", ["", "garbage", "callrec-withdrawn/1|x|soon", "x" * 5000])
def test_an_unreadable_marker_still_means_withdrawn_at_its_last_change(
    tmp_path: Path, content: str
):
    """A damaged marker is never read as consent: the withdrawal counts, at the file's time."""
    wav = withdrawn(tmp_path / "call.wav", content)
    os.utime(marker_path(wav), (PRESSED.timestamp(), PRESSED.timestamp()))
    assert withdrawn_at(wav) == PRESSED


def test_discard_deletes_audio_and_both_markers(tmp_path: Path):
    """Nothing of a withdrawn recording is left on disk."""
    wav = withdrawn(tmp_path / "call.wav")
    gone = discard(wav, marker_for(wav))
    assert (gone.withdrawn_at, gone.audio_existed) == (PRESSED, True)
    assert left_in(tmp_path) == []


async def test_settling_a_withdrawn_recording_deletes_it_instead_of_measuring(tmp_path: Path):
    """The marker makes the settle delete the file: status deleted, no size, no hash."""
    wav = withdrawn(tmp_path / "call.wav")
    settled = await settle(wav, wait_seconds=2, poll=0.01)
    assert settled.status == RecordingStatus.DELETED
    assert settled.facts is None
    assert settled.withdrawn_at == PRESSED
    assert left_in(tmp_path) == []


async def test_discard_waits_for_mixmonitor_to_close_the_file(tmp_path: Path):
    """Told to discard, the settle still waits for the close, so no later write recreates it."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    open_recording(wav)
    waiting = asyncio.create_task(settle(wav, wait_seconds=5, poll=0, discard=True))
    for _ in range(50):
        await asyncio.sleep(0)
    assert not waiting.done()
    close_recording(wav)
    settled = await waiting
    assert settled.status == RecordingStatus.DELETED
    assert settled.withdrawn_at is None  # no marker: the flow's own time stands
    assert left_in(tmp_path) == []


async def test_a_withdrawn_recording_never_closed_is_deleted_all_the_same(tmp_path: Path):
    """Never closed in time: a withdrawn file is deleted anyway, never kept as failed."""
    wav = tmp_path / "call.wav"
    write_wav(wav, 1.0)
    open_recording(wav)
    marker_path(wav).write_text("callrec-withdrawn/1|1.1|1795514353.847", encoding="ascii")
    settled = await settle(wav, wait_seconds=0.05, poll=0.01)
    assert settled.status == RecordingStatus.DELETED
    assert left_in(tmp_path) == []


async def test_audio_an_orphan_sweep_took_settles_at_once_as_deleted(tmp_path: Path):
    """Only the marker left (the sweep took the audio): no wait for a close that never comes."""
    wav = tmp_path / "call.wav"
    marker_path(wav).write_text("callrec-withdrawn/1|1.1|1795514353.847", encoding="ascii")
    settled = await asyncio.wait_for(settle(wav, wait_seconds=30, poll=0.01), 5)
    assert settled.status == RecordingStatus.DELETED
    assert settled.withdrawn_at == PRESSED
    assert left_in(tmp_path) == []

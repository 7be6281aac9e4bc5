"""Orphaned recordings: reported day by day, removed only past the longest retention."""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.crypto.store import keyed_paths
from callrec_ari.errors import RecordingError
from callrec_ari.lifecycle.orphans import sweep_orphans
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.seal import Pending, Sealer
from tests.db.records import T0
from tests.lifecycle.conftest import file_of, marker_of, recorded, store
from tests.support.audio import write_wav

KEEP_DAYS = 183
LONG_AFTER = T0 + timedelta(days=KEEP_DAYS + 1)


def stray(recordings: Path, relative: str, *, marker: bool = True, modified: datetime = T0) -> Path:
    """A WAV (and marker) no row knows about, last changed at ``modified``."""
    wav = recordings / relative
    write_wav(wav, 0.01)
    files = [wav]
    if marker:
        files.append(wav.with_name(wav.name + ".done"))
        files[-1].touch()
    for path in files:
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return wav


async def sweep(session_factory, recordings: Path, *, now=LONG_AFTER, **options):
    """Sweep at ``now``; the report and the orphans in the order they were handed over."""
    found = []
    report = await sweep_orphans(
        session_factory,
        recordings,
        now=now,
        keep_days=KEEP_DAYS,
        on_orphan=found.append,
        **options,
    )
    return report, found


async def test_files_rows_know_are_not_orphans(session_factory, recordings):
    """Recordings of stored calls, markers included, are left out of the report."""
    known = recorded("1.1", recordings)
    await store(session_factory, known)
    lost = stray(recordings, "2026/11/24/1.2.wav")

    report, found = await sweep(session_factory, recordings)

    assert [o.relative_path for o in found] == ["2026/11/24/1.2.wav"]
    assert found[0].files == ("1.2.wav", "1.2.wav.done")
    assert found[0].size_bytes == lost.stat().st_size
    assert (report.days, report.recordings, report.orphans, report.removed) == (1, 2, 1, 0)
    assert file_of(recordings, known).exists()
    assert lost.exists()


async def test_old_orphans_are_removed_only_when_asked(session_factory, recordings):
    """Past the longest retention an orphan goes with --remove; its emptied day folder too."""
    lost = stray(recordings, "2026/11/24/2.1.wav")

    report, found = await sweep(session_factory, recordings)
    assert (report.removable, report.removed, found[0].removable) == (1, 0, True)
    assert lost.exists()

    report, found = await sweep(session_factory, recordings, remove=True)
    assert (report.removed, report.bytes_removed) == (1, found[0].size_bytes)
    assert found[0].removed
    assert not lost.exists()
    assert not lost.with_name("2.1.wav.done").exists()
    assert not lost.parent.exists()


async def test_young_orphans_are_reported_but_kept(session_factory, recordings):
    """A file whose row may still be on its way is never removed."""
    lost = stray(recordings, "2026/11/24/3.1.wav")
    report, found = await sweep(
        session_factory, recordings, now=T0 + timedelta(days=KEEP_DAYS - 1), remove=True
    )
    assert (report.orphans, report.removable, report.removed) == (1, 0, 0)
    assert not found[0].removable
    assert lost.exists()


async def test_a_recent_change_keeps_an_old_folders_orphan(session_factory, recordings):
    """Age is the later of folder day and modification time."""
    copied_back = stray(recordings, "2026/01/02/4.1.wav", modified=LONG_AFTER - timedelta(days=1))
    report, found = await sweep(session_factory, recordings, remove=True)
    assert found[0].file_time == LONG_AFTER - timedelta(days=1)
    assert (report.removable, report.removed) == (0, 0)
    assert copied_back.exists()


async def test_a_lone_marker_is_an_orphan_but_a_known_wavs_marker_is_not(
    session_factory, recordings
):
    """A marker goes with its WAV: ignored beside a known one, reported alone otherwise."""
    known = recorded("5.1", recordings)
    file_of(recordings, known).unlink()  # only the marker is left; its row still knows it
    await store(session_factory, known)
    lone = stray(recordings, "2026/11/24/5.2.wav")
    lone.unlink()

    report, found = await sweep(session_factory, recordings, remove=True)

    assert [(o.relative_path, o.files) for o in found] == [
        ("2026/11/24/5.2.wav", ("5.2.wav.done",))
    ]
    assert report.removed == 1
    assert marker_of(recordings, known).exists()


async def test_symbolic_links_are_never_followed_nor_removed(session_factory, recordings, tmp_path):
    """A linked day folder or file is skipped: nothing outside the folder is read or deleted."""
    outside = tmp_path / "elsewhere"
    target = stray(outside, "6.1.wav")
    (recordings / "2026" / "11").mkdir(parents=True)
    (recordings / "2026" / "11" / "25").symlink_to(outside, target_is_directory=True)
    day = recordings / "2026" / "11" / "24"
    day.mkdir()
    (day / "6.2.wav").symlink_to(target)

    report, found = await sweep(session_factory, recordings, remove=True)

    assert found == []
    assert report.skipped_links == 2
    assert target.exists()
    assert (day / "6.2.wav").is_symlink()


async def test_folders_callrec_never_makes_are_ignored(session_factory, recordings):
    """Only YYYY/MM/DD/*.wav is walked: other names and impossible dates are left alone."""
    for relative in ("tmp/7.1.wav", "2026/02/31/7.2.wav", "2026/11/24/notes.txt", "7.3.wav"):
        path = recordings / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    report, found = await sweep(session_factory, recordings, remove=True)

    assert found == []
    assert (report.days, report.recordings) == (1, 0)
    assert (recordings / "2026/02/31/7.2.wav").exists()


async def test_the_register_of_unrecorded_calls_beside_the_recordings_is_left_alone(
    session_factory, recordings
):
    """The dialplan's register (and its .importing copy) at the top of the recordings folder
    is neither an orphan nor removed."""
    for name in ("unrecorded-calls.log", "unrecorded-calls.log.importing"):
        (recordings / name).write_text("callrec-register/1|start\n", encoding="utf-8")

    report, found = await sweep(session_factory, recordings, remove=True)

    assert found == []
    assert report.recordings == 0
    assert (recordings / "unrecorded-calls.log").exists()
    assert (recordings / "unrecorded-calls.log.importing").exists()


async def test_many_files_are_checked_in_chunks(session_factory, recordings):
    """Known paths are asked for in chunks; the answer is the same."""
    calls = [recorded(f"8.{n}", recordings) for n in range(7)]
    await store(session_factory, *calls)
    stray(recordings, "2026/11/24/8.99.wav")
    stray(recordings, "2026/11/25/8.100.wav")

    report, found = await sweep(session_factory, recordings, chunk_size=2)

    assert [o.relative_path for o in found] == ["2026/11/24/8.99.wav", "2026/11/25/8.100.wav"]
    assert (report.days, report.recordings) == (2, 9)


async def test_a_missing_recordings_folder_is_one_clear_error(session_factory, tmp_path):
    """A wrong service_dir is not mistaken for an empty one."""
    with pytest.raises(RecordingError, match=r"recordings folder .*nowhere does not exist"):
        await sweep_orphans(
            session_factory,
            tmp_path / "nowhere",
            now=T0,
            keep_days=KEEP_DAYS,
        )


async def test_a_withdrawn_orphan_loses_its_audio_at_once_whatever_its_age(
    session_factory, recordings
):
    """A young orphan beside a withdrawal marker: the audio goes now, the marker stays."""
    lost = stray(recordings, "2026/11/24/5.1.wav", modified=T0)
    marker = lost.with_name(lost.name + ".withdrawn")
    marker.write_text("callrec-withdrawn/1|5.1|1795514353.847", encoding="ascii")

    report, found = await sweep(session_factory, recordings, now=T0, remove=True)

    assert found[0].files == ("5.1.wav", "5.1.wav.done", "5.1.wav.withdrawn")
    assert (found[0].removable, found[0].removed, report.removed) == (True, True, 1)
    assert not lost.exists()
    assert not lost.with_name("5.1.wav.done").exists()
    assert marker.exists()  # no audio in it; a settle after a restart still sees the withdrawal


async def test_a_lone_withdrawal_marker_goes_once_it_is_old(session_factory, recordings):
    """The marker left behind is removed past the longest retention, like any orphan."""
    marker = recordings / "2026/11/24/5.2.wav.withdrawn"
    marker.parent.mkdir(parents=True)
    marker.write_text("callrec-withdrawn/1|5.2|1795514353.847", encoding="ascii")
    os.utime(marker, (T0.timestamp(), T0.timestamp()))

    _, young = await sweep(session_factory, recordings, now=T0, remove=True)
    assert (young[0].removable, marker.exists()) == (False, True)
    _, old = await sweep(session_factory, recordings, remove=True)
    assert old[0].removed
    assert not marker.exists()


async def test_sealed_orphans_and_stray_parts_go_with_their_key(session_factory, recordings):
    """A sealed recording no row knows (its row never arrived) is one orphan with its legs'
    sealed files and a part a crash left; removed when old, its key row with it. A known
    sealed recording is no orphan."""
    keys = LocalMasterKeys(MasterKey(secrets.token_bytes(32)))
    sealer = Sealer(
        recordings_dir=recordings, keys=keys, sessions=session_factory, clock=lambda: T0
    )
    known = recorded("7.1", recordings)
    await store(session_factory, known)
    lost = stray(recordings, "2026/11/24/7.2.wav", marker=False)
    write_wav(leg_files(lost)[0], 0.01)
    for relative in (known.recording_path, "2026/11/24/7.2.wav"):
        assert await sealer.seal(Pending(relative_path=relative, hashes={}))
    part = lost.with_name("7.2.agent.wav.enc.part")
    part.write_bytes(b"half")
    for path in lost.parent.iterdir():
        os.utime(path, (T0.timestamp(), T0.timestamp()))

    _, found = await sweep(session_factory, recordings, remove=True)

    assert [o.relative_path for o in found] == ["2026/11/24/7.2.wav"]
    assert found[0].files == ("7.2.wav.enc", "7.2.caller.wav.enc", "7.2.agent.wav.enc.part")
    assert found[0].removed
    assert sorted(p.name for p in lost.parent.iterdir()) == ["7.1.wav.done", "7.1.wav.enc"]
    async with session_factory() as session:
        assert await keyed_paths(session, [known.recording_path, "2026/11/24/7.2.wav"]) == {
            known.recording_path
        }

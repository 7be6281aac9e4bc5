"""The benchmark's recordings disk: a journaled ext4 image under both recordings folders, gone
afterwards; a step that fails says which, and leaves nothing mounted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.disk import DiskError, journaled


def _mounts() -> str:
    return Path("/proc/self/mounts").read_text()


def test_both_folders_share_one_journaled_file_system_until_the_block_ends(tmp_path: Path):
    service, baseline = tmp_path / "recordings", tmp_path / "baseline-recordings"
    service.mkdir()
    baseline.mkdir()
    with journaled([service, baseline], tmp_path) as described:
        assert "journaled ext4" in described
        (service / "a.wav").write_bytes(b"RIFF")
        (baseline / "b.wav").write_bytes(b"RIFF")
        for folder in (service, baseline):
            line = next(line for line in _mounts().splitlines() if f" {folder} " in line)
            assert " ext4 " in line
        device = next(line for line in _mounts().splitlines() if f" {service} " in line).split()[0]
        # A journaled ext4 has a jbd2 journal thread of its own, named after its device.
        journals = {entry.name for entry in Path("/proc/fs/jbd2").iterdir()}
        assert any(name.startswith(Path(device).name) for name in journals)
    assert str(service) not in _mounts()
    assert str(baseline) not in _mounts()
    assert not (service / "a.wav").exists()  # it was on the image, which is gone
    assert not (tmp_path / "recordings.ext4").exists()


def test_a_folder_that_cannot_be_mounted_over_is_named_and_nothing_stays_mounted(
    tmp_path: Path,
):
    service = tmp_path / "recordings"
    service.mkdir()
    missing = tmp_path / "not-there"
    with (
        pytest.raises(DiskError, match=r"bind-mount it over .*not-there"),
        journaled([service, missing], tmp_path),
    ):
        pass
    assert str(tmp_path) not in _mounts()
    assert not (tmp_path / "recordings.ext4").exists()

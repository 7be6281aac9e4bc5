"""Recording paths: dated, relative, and never outside the recordings folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.paths import asterisk_path, relative_path, service_path

STARTED = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)


def test_recordings_go_under_dated_folders():
    """A call's file is YYYY/MM/DD/<uniqueid>.wav by its UTC start."""
    assert relative_path("1795514341.6", STARTED) == PurePosixPath("2026/11/24/1795514341.6.wav")


def test_ids_unfit_for_file_names_are_hashed():
    """An id with slashes or dots in front cannot pick where the file goes."""
    for hostile in ("../../etc/passwd", ".hidden", "a/b", "", "x" * 200):
        rel = relative_path(hostile, STARTED)
        assert rel.parent == PurePosixPath("2026/11/24")
        assert "/" not in rel.name
        assert not rel.name.startswith(".")


def test_asterisk_and_service_see_the_same_file_under_their_own_roots(tmp_path: Path):
    """Asterisk writes under its root, the service reads under its own, from one relative path."""
    rel = relative_path("1.2", STARTED)
    assert asterisk_path(PurePosixPath("/srv/rec"), rel) == PurePosixPath(
        "/srv/rec/2026/11/24/1.2.wav"
    )
    assert service_path(tmp_path, str(rel)) == tmp_path / "2026/11/24/1.2.wav"


@pytest.mark.parametrize("stored", ["/etc/passwd", "../secrets.wav", "2026/../../x.wav", ""])
def test_a_stored_path_leaving_the_folder_is_refused(tmp_path: Path, stored: str):
    """A path from the database that would leave the recordings folder is never followed."""
    with pytest.raises(RecordingError, match="outside the recordings folder"):
        service_path(tmp_path, stored)

"""The training library's own retention: counted in months from the month a copy was made;
an expired copy is deleted by the purge (file gone, row marked, audited), a young one kept,
and files no row names are swept once a day old."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from callrec_ari.training.expiry import expires_on, month_start, purge_expired_copies
from tests.training.conftest import NOW, audit, copy_rows, make, store, toned


@pytest.mark.parametrize(
    ("made", "months", "expected"),
    [
        (datetime(2026, 12, 15, 13, 5, tzinfo=UTC), 24, date(2029, 1, 1)),
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), 24, date(2029, 1, 1)),
        (datetime(2026, 1, 31, 23, 59, tzinfo=UTC), 1, date(2026, 3, 1)),
        (datetime(2027, 11, 30, tzinfo=UTC), 2, date(2028, 2, 1)),
    ],
)
def test_a_copy_is_kept_whole_months_after_the_month_it_was_made(made, months, expected):
    """Every day of a month gives the same date: the date tells no more than the month."""
    assert expires_on(made, months) == expected


def test_the_month_starts_at_midnight_utc():
    """A time in another zone counts in UTC, like every stored time."""
    helsinki_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert month_start(helsinki_new_year) == datetime(2026, 12, 1, tzinfo=UTC)
    assert month_start(datetime(2027, 1, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def recordings(settings) -> Path:
    """The recordings folder of ``settings``."""
    return settings.recording.service_dir


async def test_an_expired_copy_is_purged_and_a_young_one_kept(
    session_factory, settings, recordings
):
    """On its day the old copy's file goes, its row is marked and ``training.purged`` names
    it; the copy made a month later stays, file and row; a dry run before changes nothing."""
    await store(session_factory, toned(recordings, "t1"), toned(recordings, "t2"))
    old = await make(session_factory, settings, "t1", now=NOW - timedelta(days=31))
    young = await make(session_factory, settings, "t2")
    files = {row.id: settings.training.dir / row.file for row in await copy_rows(session_factory)}
    due = datetime.combine(old.expires_on, datetime.min.time(), tzinfo=UTC)
    library = settings.training.dir

    dry = await purge_expired_copies(session_factory, library=library, now=due, dry_run=True)
    assert (dry.expired, dry.strays_removed) == (1, 0)
    assert all(path.exists() for path in files.values())

    before = await purge_expired_copies(
        session_factory, library=library, now=due - timedelta(microseconds=1)
    )
    assert before.expired == 0
    report = await purge_expired_copies(session_factory, library=library, now=due)
    assert (report.expired, report.files_missing, report.strays_removed) == (1, 0, 0)
    assert not files[old.id].exists()
    assert files[young.id].exists()
    rows = {row.id: row for row in await copy_rows(session_factory)}
    assert rows[old.id].deleted_at == due
    assert rows[young.id].deleted_at is None
    purged = [e for e in await audit(session_factory) if e.action == "training.purged"]
    assert [(e.actor, e.target) for e in purged] == [("callrec", f"training:{old.id}")]
    again = await purge_expired_copies(session_factory, library=library, now=due)
    assert again.expired == 0


async def test_a_file_already_gone_is_counted_not_fatal(session_factory, settings, recordings):
    """Someone deleted the expired copy's file by hand: the row is still marked."""
    await store(session_factory, toned(recordings, "t1"))
    made = await make(session_factory, settings, "t1")
    [row] = await copy_rows(session_factory)
    (settings.training.dir / row.file).unlink()
    due = datetime.combine(made.expires_on, datetime.min.time(), tzinfo=UTC)
    report = await purge_expired_copies(session_factory, library=settings.training.dir, now=due)
    assert (report.expired, report.files_missing) == (1, 1)


async def test_strays_are_swept_once_a_day_old(session_factory, settings, recordings):
    """A file no live row names (a copy whose row never committed, a half-written one) goes
    after a day; a live copy's file stays; a fresh stray stays too."""
    await store(session_factory, toned(recordings, "t1"))
    await make(session_factory, settings, "t1")
    library = settings.training.dir
    stray = library / "0badc0de.wav"
    partial = library / ".partial-0badc0de.wav"
    stray.write_bytes(b"RIFF")
    partial.write_bytes(b"RIFF")
    fresh = await purge_expired_copies(session_factory, library=library, now=NOW)
    assert fresh.strays_removed == 0
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    report = await purge_expired_copies(session_factory, library=library, now=later)
    assert report.strays_removed == 2
    assert not stray.exists()
    assert not partial.exists()
    [row] = await copy_rows(session_factory)
    assert (library / row.file).exists()


async def test_no_library_folder_yet_is_no_error(session_factory, settings):
    """Before the first copy the folder does not exist: nothing to do."""
    report = await purge_expired_copies(session_factory, library=settings.training.dir, now=NOW)
    assert (report.expired, report.strays_removed) == (0, 0)

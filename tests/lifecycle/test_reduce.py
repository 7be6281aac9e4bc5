"""Deleting recordings never stalls the event loop the calls run on: the purge and a hold's
release unlink in a worker thread, and the rows change only after the files are gone."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from callrec_ari.lifecycle import reduce as reduce_module
from callrec_ari.lifecycle.holds import HoldRequest, hold_calls, release_hold
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.records import RecordingStatus
from tests.db.records import T0
from tests.lifecycle.conftest import NOW, POLICIES, file_of, recorded, row, store

REQUEST = HoldRequest(case_reference="PR-1", reason="inquiry", placed_by="sue")


class LoopWatch:
    """Wraps the real ``delete_recording``: on its first file it waits until the event loop
    has ticked. Run on the loop, the loop could never tick and the wait would time out."""

    def __init__(self, real) -> None:
        self.real = real
        self.deleting = threading.Event()
        self.ticked = threading.Event()
        self.loop_was_free = False
        self.on_loop_thread: list[bool] = []

    def __call__(self, recordings_dir: Path, relative: str) -> bool:
        self.on_loop_thread.append(_has_running_loop())
        if not self.deleting.is_set():
            self.deleting.set()
            self.loop_was_free = self.ticked.wait(timeout=5)
        return self.real(recordings_dir, relative)

    async def tick_while_deleting(self) -> None:
        """The loop's side: notice the deletion in progress and tick once."""
        while not self.deleting.is_set():  # noqa: ASYNC110 - the flag is set by another thread
            await asyncio.sleep(0.001)
        self.ticked.set()


def _has_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> LoopWatch:
    """The real deletion, observed."""
    spy = LoopWatch(reduce_module.delete_recording)
    monkeypatch.setattr(reduce_module, "delete_recording", spy)
    return spy


async def test_the_purge_deletes_files_off_the_event_loop(session_factory, recordings, watch):
    """While the purge deletes 250 files (more than one worker-thread call's share), the
    event loop keeps running; every file goes and every row is reduced."""
    calls = [recorded(f"9.{index}", recordings) for index in range(250)]
    await store(session_factory, *calls)
    ticker = asyncio.create_task(watch.tick_while_deleting())
    report = await run_purge(
        session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW, batch_size=500
    )
    await ticker
    assert watch.loop_was_free
    assert watch.on_loop_thread == [False] * 250
    assert (report.reduced, report.files_deleted) == (250, 250)
    assert not any(file_of(recordings, call).exists() for call in calls)
    assert (await row(session_factory, "9.249")).recording_status == RecordingStatus.DELETED


async def test_a_hold_release_deletes_files_off_the_event_loop(session_factory, recordings, watch):
    """Releasing a hold purges its now-due calls at once, off the loop as well."""
    calls = [recorded(f"8.{index}", recordings) for index in range(3)]
    await store(session_factory, *calls)
    hold = await hold_calls(
        session_factory, REQUEST, [call.uniqueid for call in calls], now=T0 + timedelta(days=1)
    )
    ticker = asyncio.create_task(watch.tick_while_deleting())
    released = await release_hold(
        session_factory,
        hold.id,
        released_by="sue",
        reason="closed",
        now=NOW,
        recordings_dir=recordings,
        retention=POLICIES,
    )
    await ticker
    assert watch.loop_was_free
    assert watch.on_loop_thread == [False, False, False]
    assert released.purged.files_deleted == 3


async def test_rows_are_reduced_only_after_the_thread_has_deleted_the_files(
    session_factory, recordings, monkeypatch: pytest.MonkeyPatch
):
    """A deletion that fails half-way (a full disk, a permission) leaves every row of the
    batch as it was: the rows never claim a deletion the files did not see; a rerun
    finishes the work."""
    calls = [recorded(f"7.{index}", recordings) for index in range(3)]
    await store(session_factory, *calls)
    real = reduce_module.delete_recording

    def fail_on_the_second(recordings_dir: Path, relative: str) -> bool:
        if relative == calls[1].recording_path:
            raise PermissionError(13, "Permission denied", relative)
        return real(recordings_dir, relative)

    monkeypatch.setattr(reduce_module, "delete_recording", fail_on_the_second)
    with pytest.raises(Exception, match="could not be deleted"):
        await run_purge(session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW)
    assert (await row(session_factory, "7.0")).purged_at is None
    monkeypatch.setattr(reduce_module, "delete_recording", real)
    report = await run_purge(
        session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW
    )
    assert (report.reduced, report.files_deleted, report.files_missing) == (3, 2, 1)


async def test_the_purge_pauses_after_every_committed_batch(session_factory, recordings):
    """The service's pacing hook runs once per batch, after the batch is committed (the
    rows it deleted are already reduced when the purge rests)."""
    calls = [recorded(f"6.{index}", recordings) for index in range(5)]
    await store(session_factory, *calls)
    reduced_at_pause: list[int] = []

    async def pause() -> None:
        done = [(await row(session_factory, call.uniqueid)).purged_at for call in calls]
        reduced_at_pause.append(sum(moment is not None for moment in done))

    report = await run_purge(
        session_factory,
        recordings_dir=recordings,
        retention=POLICIES,
        now=NOW,
        batch_size=2,
        between_batches=pause,
    )
    assert report.reduced == 5
    assert reduced_at_pause == [2, 4, 5]

"""CallWriter: the call path submits without waiting; every snapshot reaches the database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from callrec_ari.db.journal import CHECKPOINT, Journal
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.models import Call
from callrec_ari.db.repository import find_record, latest_calls
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.db.writer import CallWriter
from callrec_ari.records import Consent
from tests.db.records import finished, ringing
from tests.support.postgres import PostgresServer


@contextlib.asynccontextmanager
async def running(writer):
    """Run the writer's loop for the duration of the block, then cancel it."""
    task = asyncio.create_task(writer.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Sleeps:
    """An injected sleep that records the delays and returns at once."""

    def __init__(self):
        self.delays = []

    async def __call__(self, delay):
        self.delays.append(delay)
        await asyncio.sleep(0)


class FailingFactory:
    """A session factory whose first ``failures`` sessions raise ``error``."""

    def __init__(self, factory, error, failures):
        self.factory, self.error, self.failures = factory, error, failures

    def __call__(self):
        if self.failures:
            self.failures -= 1
            raise self.error
        return self.factory()


async def stored(session_factory):
    async with session_factory() as session:
        return await latest_calls(session, 1000)


async def test_submitted_records_arrive(session_factory):
    """Records submitted to a running writer are in the database after flush."""
    writer = CallWriter(session_factory)
    records = [finished(ringing(f"1795.{n}")) for n in range(3)]
    async with running(writer):
        for record in records:
            writer.submit(record)
        assert await writer.flush(10)
    assert writer.pending == 0
    assert sorted(await stored(session_factory), key=lambda r: r.uniqueid) == records


async def test_flush_with_nothing_submitted_returns_at_once(session_factory):
    """Flushing an idle writer succeeds even before its loop runs."""
    assert await CallWriter(session_factory).flush(0.01)


async def test_many_snapshots_of_one_call_leave_the_last(session_factory):
    """Only the newest unstored snapshot of a call is kept, and it is what gets stored."""
    writer = CallWriter(session_factory)
    first = ringing()
    snapshots = [dataclasses.replace(first, duration_seconds=float(n)) for n in range(50)]
    for snapshot in snapshots:
        writer.submit(snapshot)
    assert writer.pending == 1
    async with running(writer):
        assert await writer.flush(10)
    assert await stored(session_factory) == [snapshots[-1]]


async def test_a_snapshot_submitted_during_a_write_is_written_after_it(session_factory):
    """A newer snapshot arriving while an older one is being written still ends up stored."""
    entered, release = asyncio.Event(), asyncio.Event()

    class GatedSession:
        """The first session: opens only once the test releases it."""

        def __init__(self):
            self.session = session_factory()

        async def __aenter__(self):
            entered.set()
            await release.wait()
            return await self.session.__aenter__()

        async def __aexit__(self, *exc_info):
            return await self.session.__aexit__(*exc_info)

    sessions = iter([GatedSession()])
    writer = CallWriter(lambda: next(sessions, None) or session_factory())
    first = ringing()
    async with running(writer):
        writer.submit(first)
        await entered.wait()
        writer.submit(finished(first))
        assert writer.pending == 2
        release.set()
        assert await writer.flush(10)
    assert await stored(session_factory) == [finished(first)]


async def test_a_failing_write_is_retried_with_growing_backoff(session_factory):
    """Connection failures are logged as warnings and retried, doubling the wait up to the cap."""
    sleeps = Sleeps()
    failing = FailingFactory(session_factory, ConnectionRefusedError(111, "refused"), 4)
    writer = CallWriter(failing, backoff_min_seconds=0.5, backoff_max_seconds=1.5, sleep=sleeps)
    record = finished(ringing())
    with capture_logs() as logs:
        async with running(writer):
            writer.submit(record)
            assert await writer.flush(10)
    assert sleeps.delays == [0.5, 1.0, 1.5, 1.5]
    assert await stored(session_factory) == [record]
    failures = [line for line in logs if line["event"] == "call_write_failed"]
    assert len(failures) == 4
    assert {line["log_level"] for line in failures} == {"warning"}
    assert "refused" in failures[0]["error"]
    assert any(line["event"] == "call_writes_resumed" for line in logs)


async def test_an_unexpected_error_is_logged_with_its_traceback_and_retried(session_factory):
    """A failure that is not a database error is not swallowed: logged at error level, retried."""
    sleeps = Sleeps()
    writer = CallWriter(FailingFactory(session_factory, KeyError("bug"), 1), sleep=sleeps)
    with capture_logs() as logs:
        async with running(writer):
            writer.submit(ringing())
            assert await writer.flush(10)
    crashed = [line for line in logs if line["event"] == "call_write_crashed"]
    assert len(crashed) == 1
    assert crashed[0]["log_level"] == "error"
    assert isinstance(crashed[0]["exc_info"], KeyError)
    assert len(await stored(session_factory)) == 1


async def test_a_refused_snapshot_does_not_hold_back_the_others(session_factory):
    """A snapshot the database keeps refusing stays queued while the calls around it are stored."""
    blocked = asyncio.Event()

    async def sleep(delay):
        await blocked.wait()

    writer = CallWriter(session_factory, sleep=sleep)
    bad = ringing("1795.bad", started_at=datetime(2026, 11, 24, 9, 30))  # noqa: DTZ001
    good = [ringing("1795.1"), ringing("1795.2")]
    with capture_logs() as logs:
        async with running(writer):
            writer.submit(good[0])
            writer.submit(bad)
            writer.submit(good[1])
            assert not await writer.flush(0.5)
            assert writer.pending == 1
    assert sorted(r.uniqueid for r in await stored(session_factory)) == ["1795.1", "1795.2"]
    refused = [line for line in logs if line["event"] == "call_write_refused"]
    assert [line["call_id"] for line in refused] == ["1795.bad"]


async def test_cancelling_the_loop_keeps_unstored_snapshots(session_factory):
    """Snapshots not yet stored when the loop stops stay pending, none is lost."""
    release = asyncio.Event()

    async def sleep(delay):
        await release.wait()

    writer = CallWriter(FailingFactory(session_factory, ConnectionResetError(), 1), sleep=sleep)
    async with running(writer):
        writer.submit(ringing("1795.1"))
        writer.submit(ringing("1795.2"))
        assert not await writer.flush(0.2)
    assert writer.pending == 2
    async with running(writer):
        release.set()
        assert await writer.flush(10)
    assert len(await stored(session_factory)) == 2


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test's own, free to be stopped and started."""
    with PostgresServer() as server:
        yield server


@pytest.mark.postgres
async def test_the_writer_survives_the_database_going_away(own_postgres):
    """With PostgreSQL stopped, submit still returns at once; after restart every call is stored."""
    url = own_postgres.create_database("callrec")
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    writer = CallWriter(factory, backoff_min_seconds=0.05, backoff_max_seconds=0.2)
    calls = [ringing(f"1795.{n}") for n in range(20)]
    try:
        with capture_logs() as logs:
            async with running(writer):
                writer.submit(calls[0])
                assert await writer.flush(10)  # a pooled connection now exists, soon to die

                await asyncio.to_thread(own_postgres.stop)
                began = time.perf_counter()
                for record in calls:
                    writer.submit(record)
                    writer.submit(dataclasses.replace(record, consent=Consent.GIVEN))
                    writer.submit(finished(record))
                assert time.perf_counter() - began < 0.05
                assert not await writer.flush(0.5)
                assert writer.pending == len(calls)

                await asyncio.to_thread(own_postgres.start)
                assert await writer.flush(30)
        async with factory() as session:
            count = await session.scalar(select(func.count()).select_from(Call))
            rows = [await find_record(session, record.uniqueid) for record in calls]
    finally:
        await engine.dispose()
    assert count == len(calls)
    assert rows == [finished(record) for record in calls]
    assert any(line["event"] == "call_write_failed" for line in logs)


async def test_a_writer_killed_while_the_database_is_down_loses_nothing(session_factory, tmp_path):
    """Snapshots journalled before a crash are stored by the next writer, once per call."""
    folder = tmp_path / "journal"
    down = FailingFactory(session_factory, ConnectionRefusedError(111, "refused"), 10**6)
    writer = CallWriter(down, journal=Journal(folder), sleep=Sleeps())
    calls = [ringing(f"1795.{n}") for n in range(5)]
    async with running(writer):
        for record in calls:
            writer.submit(record)
            writer.submit(finished(record))
        assert not await writer.flush(0.05)
    # Killed: neither flushed nor closed. A new process opens the same journal.
    revived = CallWriter(session_factory, journal=Journal(folder))
    assert revived.pending == len(calls)
    async with running(revived):
        assert await revived.flush(10)
    rows = await stored(session_factory)
    assert sorted(rows, key=lambda r: r.uniqueid) == [finished(record) for record in calls]
    assert Journal(folder).unapplied() == []


async def test_snapshots_stored_but_not_checkpointed_are_replayed_harmlessly(
    session_factory, tmp_path
):
    """A crash after the database commit but before the checkpoint stores nothing twice."""
    folder = tmp_path / "journal"
    writer = CallWriter(session_factory, journal=Journal(folder))
    records = [finished(ringing(f"1795.{n}")) for n in range(3)]
    async with running(writer):
        for record in records:
            writer.submit(record)
        assert await writer.flush(10)
    (folder / CHECKPOINT).unlink()
    replay = CallWriter(session_factory, journal=Journal(folder))
    assert replay.pending == 3
    async with running(replay):
        assert await replay.flush(10)
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 3
    assert sorted(await stored(session_factory), key=lambda r: r.uniqueid) == records


async def test_a_journal_that_cannot_be_written_does_not_stop_the_call(
    session_factory, tmp_path, monkeypatch
):
    """If the journal write fails the snapshot still reaches the database from memory."""
    journal = Journal(tmp_path / "journal")
    writer = CallWriter(session_factory, journal=journal)

    def full_disk(_record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal, "append", full_disk)
    with capture_logs() as logs:
        writer.submit(finished(ringing("1795.1")))
    assert any(log["event"] == "journal.write_failed" for log in logs)
    async with running(writer):
        assert await writer.flush(10)
    assert [r.uniqueid for r in await stored(session_factory)] == ["1795.1"]

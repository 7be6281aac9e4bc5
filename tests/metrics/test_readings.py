"""Values read at scrape time from the live objects: calls, ARI socket, writer, duties."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import generate_latest
from structlog.testing import capture_logs

from callrec_ari.ari import models as ari
from callrec_ari.ari.events import EventStream
from callrec_ari.db.writer import CallWriter
from callrec_ari.metrics import Metrics
from callrec_ari.supervision import Backoff, Duties, Rounds
from tests.ari.conftest import ari_settings
from tests.ari.fake_server import FakeAsterisk, eventually
from tests.db.records import ringing
from tests.db.test_writer import FailingFactory, running
from tests.flow.conftest import example_settings
from tests.flow.test_controller import CHANNEL, Harness, at, start
from tests.support.metrics import Scrape
from tests.support.vault import Vault, pending, recorded_with_legs

NOW = datetime(2027, 6, 1, 3, 0, tzinfo=UTC)


def scrape(metrics: Metrics) -> Scrape:
    return Scrape(generate_latest(metrics.registry).decode())


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk on loopback, stopped after the test."""
    server = FakeAsterisk()
    await server.start()
    yield server
    await server.stop()


def test_nothing_is_made_up_before_its_source_exists():
    """Without the live objects (or before a purge or a count ran) their metrics are absent."""
    seen = scrape(Metrics())
    for name in (
        "callrec_calls_in_flight",
        "callrec_ari_connected",
        "callrec_db_writer_backlog",
        "callrec_duty_failing",
        "callrec_purge_last_success_timestamp_seconds",
        "callrec_retention_overdue_calls",
    ):
        assert name not in seen.types


async def test_calls_in_flight_and_events_pending_follow_the_controller(tmp_path: Path):
    """A call in its announcement is in flight; once the caller hangs up it is gone."""
    harness = Harness(example_settings(tmp_path))
    metrics = Metrics()
    metrics.readings.controller = harness.controller
    await harness.feed(start())
    seen = scrape(metrics)
    assert seen.value("callrec_calls_in_flight") == 1
    assert seen.value("callrec_events_pending") == 0
    await harness.feed(ari.ChannelDestroyed(timestamp=at(3), channel_id=CHANNEL, cause=16))
    await asyncio.wait_for(harness.controller.wait_idle(), 2)
    assert scrape(metrics).value("callrec_calls_in_flight") == 0


async def test_the_socket_s_state_and_reconnects(fake_ari: FakeAsterisk):
    """Connected is 1 while the socket is open; a dropped socket reopened counts one reconnect."""
    metrics = Metrics()

    async def nothing() -> None:
        return None

    async with aiohttp.ClientSession() as session:
        stream = EventStream(
            session, ari_settings(fake_ari.url), on_event=lambda _: None, on_connect=nothing
        )
        metrics.readings.events = stream
        assert scrape(metrics).value("callrec_ari_connected") == 0
        task = asyncio.create_task(stream.run())
        try:
            with capture_logs():
                await eventually(lambda: stream.connected)
                first = scrape(metrics)
                await fake_ari.close_sockets()
                await eventually(lambda: stream.connections == 2 and stream.connected)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert first.value("callrec_ari_connected") == 1
    assert first.value("callrec_ari_reconnects_total") == 0
    assert scrape(metrics).value("callrec_ari_reconnects_total") == 1


async def test_backlog_and_journal_lag_while_the_database_is_away(session_factory):
    """Snapshots wait while the database refuses: the backlog counts calls, the lag grows
    from the oldest snapshot's submission; once stored both are 0."""
    now = [100.0]
    gate = asyncio.Event()

    async def held(_: float) -> None:
        await gate.wait()

    refusing = FailingFactory(session_factory, ConnectionRefusedError(111, "refused"), 1)
    writer = CallWriter(refusing, monotonic=lambda: now[0], sleep=held)
    metrics = Metrics()
    metrics.readings.writer = writer
    writer.submit(ringing("1795514341.6"))
    now[0] = 102.0
    writer.submit(ringing("1795514342.7"))
    writer.submit(ringing("1795514341.6", agent="agent100"))  # a newer snapshot, same call
    now[0] = 105.5
    seen = scrape(metrics)
    assert seen.value("callrec_db_writer_backlog") == 2
    assert seen.value("callrec_journal_lag_seconds") == 5.5
    with capture_logs():
        async with running(writer):
            gate.set()
            assert await writer.flush(10)
    seen = scrape(metrics)
    assert seen.value("callrec_db_writer_backlog") == 0
    assert seen.value("callrec_journal_lag_seconds") == 0


async def test_duty_failures_are_counted_and_the_failing_ones_named():
    """A crashing duty counts its crashes and is failing; a duty whose rounds failed counts
    them, and once it recovers it is not failing but its count stays."""
    recovered = asyncio.Event()

    async def crashing(rounds: Rounds) -> None:
        raise OSError(28, "No space left on device")

    async def flaky(rounds: Rounds) -> None:
        rounds.failed("The database is down.")
        rounds.failed("The database is down.")
        rounds.succeeded()
        recovered.set()
        await asyncio.Event().wait()

    duties = Duties(backoff=Backoff(min_seconds=3600), clock=lambda: NOW)
    metrics = Metrics()
    metrics.readings.duties = duties
    with capture_logs():
        duties.start("purge", crashing)
        duties.start("routes", flaky)
        await recovered.wait()
        await eventually(lambda: bool(duties.failing))
        seen = scrape(metrics)
        await duties.stop("purge", "routes")
    assert seen.value("callrec_duty_failing", duty="purge") == 1
    assert seen.value("callrec_duty_failing", duty="routes") == 0
    assert seen.value("callrec_duty_failures_total", duty="purge", kind="crash") == 1
    assert seen.value("callrec_duty_failures_total", duty="routes", kind="round") == 2
    assert seen.value("callrec_duty_failures_total", duty="routes", kind="crash") == 0


async def test_the_purge_s_last_success_and_the_overdue_count():
    """The purge's time appears once a run succeeded (Unix seconds); the count once counted."""
    finished = asyncio.Event()

    async def purge(rounds: Rounds) -> None:
        rounds.succeeded()
        finished.set()
        await asyncio.Event().wait()

    duties = Duties(clock=lambda: NOW)
    metrics = Metrics()
    duties.start("purge", purge)
    metrics.readings.purge = duties.statuses["purge"]
    assert "callrec_purge_last_success_timestamp_seconds" not in scrape(metrics).types
    await finished.wait()
    metrics.readings.overdue_counted(3)
    seen = scrape(metrics)
    await duties.stop("purge")
    assert seen.value("callrec_purge_last_success_timestamp_seconds") == NOW.timestamp()
    assert seen.value("callrec_retention_overdue_calls") == 3


async def test_recordings_waiting_to_be_sealed_and_those_sealed(vault: Vault):
    """Two closed recordings queued: the backlog says 2 until they are sealed, then 0, and
    the counter says 2."""
    metrics = Metrics()
    metrics.readings.sealer = vault.sealer
    records = [recorded_with_legs(vault.recordings, f"7.{n}") for n in range(2)]
    for record in records:
        vault.sealer.submit(pending(record))
    seen = scrape(metrics)
    assert seen.value("callrec_seal_backlog") == 2
    assert seen.value("callrec_sealed_recordings_total") == 0
    assert await vault.sealer.drain() == 2
    seen = scrape(metrics)
    assert seen.value("callrec_seal_backlog") == 0
    assert seen.value("callrec_sealed_recordings_total") == 2

"""A database outage must neither delay nor lose calls, nor may a crash of the service while
the database is away: every snapshot goes to the local journal first (real PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callrec_ari.app import WRITER
from callrec_ari.db import lookup
from callrec_ari.db.models import Call
from callrec_ari.db.session import open_sessions
from callrec_ari.recording.paths import service_path
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.sipp import CallerScript, SippAgent, place_calls
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    acceptance_config,
    sandbox_settings,
    setup_delay,
    sha256_of,
    until,
)
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

CALLS = 3


async def rows_per_call(url: str) -> list[int]:
    """How many rows each stored uniqueid has (all should be 1)."""
    async with open_sessions(url) as sessions, sessions() as session:
        counts = await session.scalars(
            select(func.count()).select_from(Call).group_by(Call.uniqueid)
        )
        return list(counts)


async def stored(url: str, calls: int) -> bool:
    """Whether ``calls`` rows are stored."""
    return len(await lookup.latest(url, 100)) == calls


def assert_complete(rows: list[CallRecord], caller: str, recordings: Path) -> None:
    """Each call recorded, ended, answered, with the SHA-256 of the file on disk."""
    assert len(rows) == CALLS
    for row in rows:
        assert row.caller_number == caller
        assert row.consent == Consent.GIVEN
        assert row.recording_status == RecordingStatus.COMPLETE
        assert row.agent == "agent100"
        assert row.ended_at is not None
        assert row.recording_path is not None
        assert row.sha256 == sha256_of(service_path(recordings, row.recording_path))


async def test_postgres_stopped_during_a_run_of_calls_loses_no_row(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """PostgreSQL stops while calls are in their announcement and starts after they ended."""
    with PostgresServer() as postgres:
        url = postgres.create_database("callrec")
        settings = sandbox_settings(
            asterisk,
            tmp_path,
            database={"url": url, "retry_min_seconds": 0.2, "retry_max_seconds": 1},
        )
        service = Service(settings, asterisk, tmp_path)
        await service.start()
        try:
            caller = "48224000001"
            prompt = announcement_seconds(settings, QUICK_DID)
            script = CallerScript(
                did=QUICK_DID, caller=caller, wait_ms=int(prompt * 1000) + 1500, talk_ms=2000
            )
            run = asyncio.create_task(service.call(script, calls=CALLS, rate=2))
            # Stop the database once the calls' first rows (consent pending) are in.
            await until(lambda: stored(url, CALLS), within=15)
            await asyncio.to_thread(postgres.stop)
            result = await run
            assert result.ok, result.errors
            # Waiting for the database would have held the calls until it came back, long
            # after they ended; a second allows for the other workers sharing the two cores.
            assert setup_delay(result, agent, caller, prompt) < 1.0
            assert service.app[WRITER].pending == CALLS
            await asyncio.to_thread(postgres.start)
            rows = await service.settled(within=60)
        finally:
            await service.stop()
        assert await rows_per_call(url) == [1] * CALLS
    assert_complete(rows, caller, settings.recording.service_dir)


async def test_a_service_killed_before_the_database_came_back_stores_every_row_on_restart(
    asterisk: AsteriskSandbox, tmp_path: Path
):
    """Calls end while PostgreSQL is down; the service is SIGKILLed; after both are back,
    every call's complete row is stored exactly once, from the journal."""
    with PostgresServer() as postgres:
        config = acceptance_config(asterisk, tmp_path)
        url = postgres.create_database("callrec")
        config["database"].update(url=url, retry_min_seconds=0.2, retry_max_seconds=1)
        process = ServiceProcess(config, tmp_path / "service")
        await asyncio.to_thread(process.migrate)
        await asyncio.to_thread(process.start)
        try:
            await asyncio.to_thread(postgres.stop)
            caller = "48224000002"
            listen = int(announcement_seconds(sandbox_settings(asterisk, tmp_path), QUICK_DID))
            script = CallerScript(
                did=QUICK_DID, caller=caller, wait_ms=listen * 1000 + 1500, talk_ms=2000
            )
            result = await place_calls(asterisk.settings, script, tmp_path / "caller", calls=CALLS)
            assert result.ok, result.errors
            health = await until(
                lambda: (h := process.health()).get("calls_in_progress") == 0 and h, within=30
            )
            assert health["rows_pending"] == CALLS  # in the journal, not in the database
            process.kill()
            await asyncio.to_thread(postgres.start)
            await asyncio.to_thread(process.start)
            await asyncio.to_thread(process.wait_idle, 60)
            rows = await lookup.latest(url, 100)
            assert await rows_per_call(url) == [1] * CALLS
        finally:
            process.stop()
    assert_complete(rows, caller, asterisk.recordings_service_dir)

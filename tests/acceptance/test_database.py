"""A database outage must neither delay nor lose calls (issue item 6), with real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callrec_ari.app import WRITER
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.commands import announcement_seconds
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import Service, sandbox_settings, setup_delay, sha256_of, until
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]


async def test_calls_are_recorded_while_postgres_is_down_and_rows_arrive_later(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """With PostgreSQL stopped a call is set up as fast as ever; its row is stored once it is up."""
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
            await asyncio.to_thread(postgres.stop)
            caller = "48224000001"
            prompt = announcement_seconds(settings, "5559999")
            script = CallerScript(
                did="5559999", caller=caller, wait_ms=int(prompt * 1000) + 1500, talk_ms=2000
            )
            result = await service.call(script)
            assert result.ok, result.errors
            assert setup_delay(result, agent, caller, prompt) < 0.5
            await until(lambda: service.app[WRITER].pending >= 1, within=15)
            await asyncio.to_thread(postgres.start)
            [row] = await service.settled(within=60)
        finally:
            await service.stop()
    assert row.caller_number == caller
    assert row.consent == Consent.GIVEN
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.sha256 == sha256_of(service.wav(row))

"""GET /metrics on the service app.py builds, after a call driven through a fake Asterisk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from callrec_ari.app import CONTROLLER, EVENTS, WRITER, build_app
from tests.ari.fake_server import (
    CALLER_ID,
    FakeAsterisk,
    Reply,
    channel_json,
    envelope,
    eventually,
    stasis_start,
)
from tests.support.metrics import DOCUMENTED, Scrape
from tests.test_housekeeping import service_settings

CALLER = "48221234567"  # the number channel_json gives the caller


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk whose application holds no channel yet."""
    server = FakeAsterisk()
    server.reply("GET", "/ari/applications/callrec", Reply(json={"channel_ids": []}))
    await server.start()
    yield server
    await server.stop()


async def scrape(client: TestClient) -> Scrape:  # type: ignore[type-arg]
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    return Scrape(await response.text())


async def test_a_scrape_after_a_call_documents_and_counts_it(
    database_url: str, fake_ari: FakeAsterisk, tmp_path: Path
):
    """Every documented metric is there with its type, without signing in; the caller who hung
    up during the announcement is one abandoned call; the ARI requests it took are timed; no
    label holds the caller's number or the call's id."""
    app = build_app(service_settings(tmp_path, database_url, fake_ari.url))
    with capture_logs():
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await asyncio.wait_for(app[EVENTS].wait_connected(), 20)
            await eventually(lambda: app[EVENTS].reconciled)  # else the call is "interrupted"
            await fake_ari.send(stasis_start())
            await eventually(lambda: any("/play/" in seen.raw_path for seen in fake_ari.requests))
            during = await scrape(client)
            await fake_ari.send(envelope("ChannelDestroyed", cause=16, channel=channel_json()))
            await asyncio.wait_for(app[CONTROLLER].wait_idle(), 20)
            assert await app[WRITER].flush(20)
            after = await scrape(client)

    assert {name: after.types.get(name) for name in DOCUMENTED} == DOCUMENTED
    assert during.value("callrec_calls_in_flight") == 1
    assert during.total("callrec_calls_total") == 0
    assert after.value("callrec_calls_in_flight") == 0
    assert after.value("callrec_events_pending") == 0
    assert after.value("callrec_calls_total", consent="abandoned", recording="none") == 1
    assert after.total("callrec_calls_total") == 1
    count = "callrec_ari_request_duration_seconds_count"
    assert after.value(count, method="POST", route="/channels/{id}/answer") == 1
    assert after.value(count, method="POST", route="/channels/{id}/play/{id}") == 1
    assert after.value(count, method="GET", route="/applications/{id}") == 1
    assert after.value("callrec_ari_connected") == 1
    assert after.value("callrec_ari_reconnects_total") == 0
    assert after.value("callrec_db_writer_backlog") == 0
    assert after.value("callrec_retention_overdue_calls") == 0
    assert after.value("callrec_purge_last_success_timestamp_seconds") > 0  # type: ignore[operator]
    assert after.value("callrec_event_loop_lag_seconds_count") > 0  # type: ignore[operator]
    assert after.value("callrec_duty_failing", duty="purge") == 0
    ours = {
        value
        for sample in after.samples
        if sample.name.startswith("callrec_")
        for value in sample.labels.values()
    }
    assert not [value for value in ours if value.isdigit() or CALLER in value]
    assert not [value for value in ours if CALLER_ID in value or "consent-" in value]

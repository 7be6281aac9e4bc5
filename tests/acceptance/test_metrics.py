"""GET /metrics after real calls through Asterisk 22: outcomes match the rows (issue 13 §4)."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import pytest

from callrec_ari.sandbox.sipp import CallerScript
from tests.acceptance.conftest import QUICK_DID, Service
from tests.support.metrics import DOCUMENTED, Scrape

pytestmark = pytest.mark.asterisk

CONSENTING = 3
LATENCY = "callrec_ari_request_duration_seconds"


async def scrape(service: Service) -> Scrape:
    """``GET /metrics`` on the service's port, as Prometheus asks for it, without signing in."""
    host, port = service.runner.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/metrics") as response,
    ):
        assert response.status == 200
        return Scrape(await response.text())


async def test_a_scrape_after_real_calls_counts_each_by_its_row(service: Service):
    """Three callers stay on and are recorded, one declines, one hangs up in the announcement:
    the counts by outcome are the rows', every call's answer was timed, and nothing is left in
    flight or waiting for the database."""
    listen = service.listen_ms(QUICK_DID)
    scripts = [
        (CallerScript(did=QUICK_DID, caller="48226000001", wait_ms=listen, talk_ms=2000), 3),
        (CallerScript(did=QUICK_DID, caller="48226000002", wait_ms=800, press="9"), 1),
        (CallerScript(did=QUICK_DID, caller="48226000003", wait_ms=0, talk_ms=800), 1),
    ]
    results = await asyncio.gather(
        *(
            service.call(
                script, calls=calls, rate=2, media_port=18000 + 100 * index, local_port=5080 + index
            )
            for index, (script, calls) in enumerate(scripts)
        )
    )
    for result in results:
        assert result.ok, result.errors
    rows = await service.settled()
    seen = await scrape(service)

    assert len(rows) == CONSENTING + 2
    by_row = Counter((row.consent.value, row.recording_status.value) for row in rows)
    assert by_row == {("given", "complete"): 3, ("declined", "none"): 1, ("abandoned", "none"): 1}
    counted = {
        (sample.labels["consent"], sample.labels["recording"]): sample.value
        for sample in seen.samples
        if sample.name == "callrec_calls_total"
    }
    assert counted == by_row
    assert {name: seen.types.get(name) for name in DOCUMENTED} == DOCUMENTED
    answer = {"method": "POST", "route": "/channels/{id}/answer"}
    assert seen.value(f"{LATENCY}_count", **answer) == len(rows)
    assert seen.total(f"{LATENCY}_count") > 3 * len(rows)  # answer, play, subscribe...
    assert 0 < seen.value(f"{LATENCY}_sum", **answer) < len(rows)  # type: ignore[operator]
    # The sandbox's globals hold callrec's folder and withdrawal item: the dialplan named each
    # recording, so no call had a channel variable set (flow/dialplan_paths.py).
    assert not seen.value(f"{LATENCY}_count", method="POST", route="/channels/{id}/variable")
    assert seen.value("callrec_calls_in_flight") == 0
    assert seen.value("callrec_events_pending") == 0
    assert seen.value("callrec_db_writer_backlog") == 0
    assert seen.value("callrec_ari_connected") == 1
    assert seen.value("callrec_event_loop_lag_seconds_count") > 0  # type: ignore[operator]
    labels = {
        value
        for sample in seen.samples
        if sample.name.startswith("callrec_")
        for value in sample.labels.values()
    }
    for row in rows:
        assert not [value for value in labels if row.uniqueid in value]
        assert not [value for value in labels if str(row.caller_number) in value]

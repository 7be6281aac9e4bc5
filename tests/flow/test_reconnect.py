"""Reconnecting to Asterisk while calls arrive (issue 13 §5), through the real reconnect path:
the event stream drops, reconnects and reconciles against a fake Asterisk over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import structlog
from structlog.testing import capture_logs

from callrec_ari.ari.client import AriClient
from callrec_ari.ari.events import EventStream
from callrec_ari.flow.controller import CallController
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.recording.finalise import settle
from callrec_ari.records import CallRecord, Consent
from tests.ari.conftest import ari_settings
from tests.ari.fake_server import CALLER_ID, FakeAsterisk, Reply, channel_json, eventually
from tests.ari.fake_server import stasis_start as stasis_start_json
from tests.flow.conftest import example_settings

APPLICATION = "/ari/applications/callrec"


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk on 127.0.0.1, stopped after the test."""
    server = FakeAsterisk()
    await server.start()
    yield server
    await server.stop()


@dataclass
class Connected:
    """The real controller and event stream on the fake Asterisk, reconciled once."""

    fake: FakeAsterisk
    controller: CallController
    stream: EventStream
    rows: list[CallRecord]
    # The reconcile waits for this first, as it waits for the lease's renewal with [ha] on.
    ahead_of_reconcile: asyncio.Event


@pytest.fixture
async def connected(fake_ari: FakeAsterisk, tmp_path: Path) -> AsyncIterator[Connected]:
    """A controller fed by a real event stream over HTTP and a WebSocket, first connection
    reconciled (no channel in Stasis then); stopped after the test."""
    settings = example_settings(tmp_path)
    fake_ari.reply("GET", APPLICATION, Reply(200, json={"name": "callrec", "channel_ids": []}))
    rows: list[CallRecord] = []
    async with aiohttp.ClientSession() as session:
        ari_config = ari_settings(fake_ari.url)
        controller = CallController(
            ari=AriClient(session, ari_config),
            flow=ConsentFlow(settings),
            recordings_dir=settings.recording.service_dir,
            submit=rows.append,
            settle=lambda path, discard=False: settle(path, wait_seconds=1, discard=discard),
            do_not_record=lambda _number: False,
        )
        ahead = asyncio.Event()
        ahead.set()

        async def on_connect() -> None:
            await ahead.wait()
            await controller.reconcile()

        stream = EventStream(
            session,
            ari_config,
            on_event=controller.on_event,
            on_connect=on_connect,
            on_open=controller.connection_opened,
        )
        running = asyncio.create_task(stream.run())
        try:
            await eventually(lambda: stream.reconciled)
            yield Connected(
                fake=fake_ari,
                controller=controller,
                stream=stream,
                rows=rows,
                ahead_of_reconcile=ahead,
            )
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await controller.close(grace_seconds=0.1)


async def test_a_call_arriving_while_the_reconnect_asks_about_it_gets_one_worker(
    connected: Connected,
):
    """The reconnect finds the caller in Stasis and asks Asterisk about it; its StasisStart
    comes in meanwhile. The call is answered and announced once, by one worker, and nothing
    crashes when it ends."""
    fake, controller, stream = connected.fake, connected.controller, connected.stream
    # Asterisk now holds the caller in Stasis and answers slowly about it.
    fake.reply("GET", APPLICATION, Reply(200, json={"name": "callrec", "channel_ids": [CALLER_ID]}))
    fake.reply("GET", f"/ari/channels/{CALLER_ID}", Reply(200, json=channel_json(), delay=0.3))
    asked = len(fake.requests)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await fake.close_sockets()
        await eventually(
            lambda: any(r.raw_path == f"/ari/channels/{CALLER_ID}" for r in fake.requests[asked:])
        )
        await fake.send(stasis_start_json())  # while the reconnect still asks
        await eventually(lambda: stream.reconciled)
        await asyncio.sleep(0.1)
        answers = [r for r in fake.requests if r.raw_path.endswith(f"{CALLER_ID}/answer")]
        plays = [r for r in fake.requests if f"{CALLER_ID}/play/" in r.raw_path]
        assert len(answers) == 1
        assert len(plays) == 1
        assert controller.active == 1
        await fake.send(
            {
                "type": "ChannelDestroyed",
                "timestamp": "2026-11-24T09:59:03.254+0000",
                "cause": 16,
                "channel": channel_json(),
            }
        )
        await eventually(lambda: controller.active == 0)
    assert not [e for e in logs if e["log_level"] in ("error", "critical")]
    assert [e["event"] for e in logs if e["event"] in ("call.arrived", "call.recovered")] == [
        "call.arrived"
    ]
    assert connected.rows[-1].uniqueid == CALLER_ID
    assert connected.rows[-1].finished


async def test_a_call_arriving_while_the_reconnect_sets_the_filter_is_announced(
    connected: Connected,
):
    """A call whose StasisStart comes on the new connection while the reconnect still waits
    for Asterisk is not one we lost sight of: it is announced, not let through unrecorded."""
    fake, stream = connected.fake, connected.stream
    fake.reply("PUT", f"{APPLICATION}/eventFilter", Reply(204, delay=0.3))
    await fake.close_sockets()
    await eventually(lambda: not stream.reconciled and bool(fake.sockets))
    await fake.send(stasis_start_json())
    await eventually(lambda: stream.reconciled)
    await asyncio.sleep(0.1)
    paths = [r.raw_path for r in fake.requests]
    assert f"/ari/channels/{CALLER_ID}/answer" in paths
    assert any(f"/ari/channels/{CALLER_ID}/play/" in path for path in paths)
    assert connected.rows
    assert all(row.consent == Consent.PENDING for row in connected.rows)


async def test_a_call_read_before_the_reconcile_starts_is_still_announced(connected: Connected):
    """The new connection's first event is read before the reconcile has even started (it
    waits for something else first, as for the lease with [ha] on): that call arrived on the
    new connection, so it is announced and not let through as one we lost sight of."""
    fake, stream = connected.fake, connected.stream
    connected.ahead_of_reconcile.clear()
    await fake.close_sockets()
    await eventually(lambda: not stream.reconciled and stream.connected)
    await fake.send(stasis_start_json())
    await eventually(lambda: any(f"{CALLER_ID}/play/" in r.raw_path for r in fake.requests))
    connected.ahead_of_reconcile.set()
    await eventually(lambda: stream.reconciled)
    await asyncio.sleep(0.1)
    assert connected.rows
    assert all(row.consent == Consent.PENDING for row in connected.rows)
    assert not any(r.raw_path.endswith(f"{CALLER_ID}/continue") for r in fake.requests)

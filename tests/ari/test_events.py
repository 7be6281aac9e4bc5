"""The ARI event stream against a fake Asterisk: events in order, bad ones skipped, reconnects."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from callrec_ari.ari import models
from callrec_ari.ari.events import EventStream
from callrec_ari.config import AriSettings
from tests.ari.conftest import APP, PASSWORD, USERNAME, ari_settings
from tests.ari.fake_server import FakeAsterisk, envelope, eventually, sample, stasis_start

MIN = 0.01  # reconnect_min_seconds of ``ari_settings``
MAX = 0.05  # reconnect_max_seconds of ``ari_settings``


class Harness:
    """Runs one ``EventStream``, keeping what it hands out and the back-off delays it asks for."""

    def __init__(self, session: aiohttp.ClientSession, settings: AriSettings) -> None:
        self.events: list[models.AriEvent] = []
        self.reconciled = 0
        self.delays: list[float] = []
        self.gate = asyncio.Event()  # back-off sleeps wait until it is set
        self.gate.set()
        self.on_connect: Callable[[], Awaitable[object]] | None = None
        self.stream = EventStream(
            session,
            settings,
            on_event=self.events.append,
            on_connect=self._on_connect,
            sleep=self._sleep,
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the stream in the background."""
        self.task = asyncio.create_task(self.stream.run())

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait for ``condition``; if ``run()`` ended meanwhile, raise what ended it."""
        assert self.task is not None

        def done_or_true() -> bool:
            return self.task is not None and (self.task.done() or condition())

        await eventually(done_or_true)
        if self.task.done():
            self.task.result()
            pytest.fail("run() returned")

    async def stop(self) -> None:
        """Cancel ``run()`` and wait for it, whatever state it is in."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _on_connect(self) -> None:
        self.reconciled += 1
        if self.on_connect is not None:
            await self.on_connect()

    async def _sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        await self.gate.wait()
        await asyncio.sleep(0.001)


@pytest.fixture
async def harnesses(session: aiohttp.ClientSession) -> AsyncIterator[list[Harness]]:
    """Every harness a test makes, stopped after it."""
    made: list[Harness] = []
    yield made
    for harness in made:
        await harness.stop()


@pytest.fixture
def run_stream(
    session: aiohttp.ClientSession, harnesses: list[Harness]
) -> Callable[[AriSettings], Harness]:
    """Start an event stream with the given settings."""

    def run(settings: AriSettings) -> Harness:
        harness = Harness(session, settings)
        harnesses.append(harness)
        harness.start()
        return harness

    return run


@pytest.fixture
async def connected(run_stream: Callable[[AriSettings], Harness], settings: AriSettings) -> Harness:
    """A stream connected to the fake Asterisk."""
    harness = run_stream(settings)
    await harness.until(lambda: harness.stream.connected)
    return harness


def logged(logs: Sequence[Mapping[str, Any]], event: str) -> list[Mapping[str, Any]]:
    """The captured log entries named ``event``."""
    return [entry for entry in logs if entry["event"] == event]


async def test_connects_with_app_and_basic_auth(connected: Harness, fake_ari: FakeAsterisk) -> None:
    """The stream asks for our application only, authenticated with the configured user."""
    await connected.stream.wait_connected()

    [handshake] = fake_ari.handshakes
    assert handshake.query == {"app": APP, "subscribeAll": "false"}
    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert handshake.authorization == expected
    assert connected.stream.connections == 1


async def test_on_connect_is_called_once_connected(connected: Harness) -> None:
    """Reconciliation starts once the socket is open."""
    await connected.until(lambda: connected.reconciled == 1)


async def test_events_reach_on_event_parsed_and_in_order(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """Events from the socket reach ``on_event`` as typed events, in the order they were sent."""
    for message in (stasis_start(), sample("PlaybackFinished")):
        await fake_ari.send(message)
    for digit in "1239":
        await fake_ari.send(sample("ChannelDtmfReceived") | {"digit": digit})
    await fake_ari.send(sample("StasisEnd"))

    await connected.until(lambda: len(connected.events) == 7)

    assert [type(e).__name__ for e in connected.events] == [
        "StasisStart",
        "PlaybackFinished",
        *["DtmfReceived"] * 4,
        "StasisEnd",
    ]
    digits = [e.digit for e in connected.events if isinstance(e, models.DtmfReceived)]
    assert digits == list("1239")
    start = connected.events[0]
    assert isinstance(start, models.StasisStart)
    assert start.args == ("5551000",)


async def test_ignored_event_types_are_skipped_silently(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """Events callrec does not act on never reach ``on_event`` and are not reported as bad."""
    with capture_logs() as logs:
        await fake_ari.send(envelope("ChannelVarset", variable="X", value="1"))
        await fake_ari.send(envelope("ChannelDialplan"))
        await fake_ari.send(sample("StasisEnd"))
        await connected.until(lambda: len(connected.events) == 1)

    assert isinstance(connected.events[0], models.StasisEnd)
    assert logged(logs, "ari.bad_event") == []


async def test_bad_messages_are_logged_and_skipped(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """Text that is not JSON and malformed events are logged and skipped; the socket stays up."""
    with capture_logs() as logs:
        await fake_ari.send("this is {not json")
        await fake_ari.send(envelope("StasisStart", args=["5551000"]))
        await fake_ari.send(["StasisEnd"])
        await fake_ari.send_bytes(b"\x00\x01binary")
        await fake_ari.send(sample("StasisEnd"))
        await connected.until(lambda: len(connected.events) == 1)

    assert isinstance(connected.events[0], models.StasisEnd)
    bad = logged(logs, "ari.bad_event")
    assert [entry["log_level"] for entry in bad] == ["warning"] * 3
    assert bad[0]["sample"] == "this is {not json"
    assert "StasisStart is malformed" in bad[1]["error"]
    assert "not a JSON object" in bad[2]["error"]
    assert connected.stream.connections == 1
    assert len(fake_ari.handshakes) == 1


async def test_bad_event_sample_is_cut_short(connected: Harness, fake_ari: FakeAsterisk) -> None:
    """A huge bad message is logged as a short sample, not whole."""
    with capture_logs() as logs:
        await fake_ari.send("x" * 100_000)
        await fake_ari.send(sample("StasisEnd"))
        await connected.until(lambda: len(connected.events) == 1)

    [bad] = logged(logs, "ari.bad_event")
    assert len(bad["sample"]) <= 200


@pytest.mark.parametrize(
    "message",
    [
        "[" * 100_000 + "]" * 100_000,
        stasis_start() | {"timestamp": "0001-01-01T00:00:00.000+0100"},
    ],
    ids=["deeply-nested-json", "out-of-range-timestamp"],
)
async def test_hostile_message_does_not_stop_the_stream(
    connected: Harness, fake_ari: FakeAsterisk, message: Any
) -> None:
    """Any message, however odd, is skipped or read with a fallback; later events still arrive."""
    with capture_logs():
        await fake_ari.send(message)
        await fake_ari.send(sample("StasisEnd"))
        await connected.until(
            lambda: any(type(event).__name__ == "StasisEnd" for event in connected.events)
        )

    assert connected.stream.connections == 1


async def test_reconnects_when_server_closes_the_socket(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """A socket closed by Asterisk is reopened after the shortest delay, and reconciled again."""
    await connected.until(lambda: connected.reconciled == 1)

    with capture_logs() as logs:
        await fake_ari.close_sockets()
        await connected.until(lambda: connected.stream.connections == 2)
        await connected.until(lambda: connected.reconciled == 2)

    assert connected.delays == [MIN]
    assert len(logged(logs, "ari.disconnected")) == 1
    await fake_ari.send(sample("StasisEnd"))
    await connected.until(lambda: len(connected.events) == 1)


async def test_reconnects_after_restart_with_growing_capped_delays(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """While Asterisk is down the delays double from the minimum up to the cap; then it is back."""
    connected.gate.clear()
    with capture_logs() as logs:
        await fake_ari.stop()
        connected.gate.set()
        await connected.until(lambda: len(connected.delays) >= 6)
        await fake_ari.start()
        await connected.until(lambda: connected.stream.connections == 2)
        await connected.until(lambda: connected.reconciled == 2)

    assert connected.delays[:6] == pytest.approx([MIN, 2 * MIN, 4 * MIN, MAX, MAX, MAX])
    assert max(connected.delays) == pytest.approx(MAX)
    assert logged(logs, "ari.unreachable")
    await fake_ari.send(sample("StasisEnd"))
    await connected.until(lambda: len(connected.events) == 1)


async def test_backoff_starts_over_after_a_connection(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """After a successful reconnection, the next disconnection waits the minimum again."""
    connected.gate.clear()
    await fake_ari.stop()
    connected.gate.set()
    await connected.until(lambda: len(connected.delays) >= 5)
    await fake_ari.start()
    await connected.until(lambda: connected.stream.connections == 2)
    before = len(connected.delays)

    await fake_ari.close_sockets()
    await connected.until(lambda: connected.stream.connections == 3)

    assert connected.delays[before:] == [MIN]


async def test_backoff_while_unreachable(
    run_stream: Callable[[AriSettings], Harness], dead_url: str
) -> None:
    """With nothing listening, delays double from the minimum and stop at the maximum."""
    settings = ari_settings(dead_url, reconnect_min_seconds=0.2, reconnect_max_seconds=1.0)
    with capture_logs() as logs:
        harness = run_stream(settings)
        await harness.until(lambda: len(harness.delays) >= 7)

    assert harness.delays[:7] == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0])
    assert harness.stream.connections == 0
    assert harness.reconciled == 0
    assert not harness.stream.connected
    unreachable = logged(logs, "ari.unreachable")
    assert unreachable[0]["url"] == dead_url
    assert unreachable[0]["log_level"] == "warning"
    waits = [entry["in_seconds"] for entry in logged(logs, "ari.reconnecting")]
    assert waits[:4] == [0.2, 0.4, 0.8, 1.0]


async def test_refused_handshake_is_logged_and_retried(
    run_stream: Callable[[AriSettings], Harness], settings: AriSettings, fake_ari: FakeAsterisk
) -> None:
    """A 401 at the handshake is logged as ``ari.refused`` and retried with growing delays."""
    fake_ari.refuse = [401, 401]
    with capture_logs() as logs:
        harness = run_stream(settings)
        await harness.until(lambda: harness.stream.connections == 1)

    refused = logged(logs, "ari.refused")
    assert [(entry["status"], entry["log_level"]) for entry in refused] == [(401, "error")] * 2
    assert "password" in refused[0]["hint"]
    assert PASSWORD not in str(logs)
    assert harness.delays == pytest.approx([MIN, 2 * MIN])
    assert len(fake_ari.handshakes) == 3


async def test_failing_on_connect_is_logged_and_events_flow(
    run_stream: Callable[[AriSettings], Harness], settings: AriSettings, fake_ari: FakeAsterisk
) -> None:
    """An exception in ``on_connect`` is logged; the socket stays open and events still arrive."""

    async def broken() -> None:
        raise RuntimeError("database is down")

    with capture_logs() as logs:
        harness = run_stream(settings)
        harness.on_connect = broken
        await harness.until(lambda: bool(logged(logs, "ari.reconcile_failed")))
        await fake_ari.send(sample("StasisEnd"))
        await harness.until(lambda: len(harness.events) == 1)

    [failed] = logged(logs, "ari.reconcile_failed")
    assert failed["log_level"] == "error"
    assert failed["exc_info"] is True
    assert harness.stream.connections == 1
    assert harness.stream.connected


async def test_slow_on_connect_does_not_hold_up_events(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """Events are handed out while reconciliation is still running."""
    release = asyncio.Event()
    connected.on_connect = release.wait
    await fake_ari.close_sockets()
    await connected.until(lambda: connected.reconciled == 2)

    await fake_ari.send(sample("StasisEnd"))
    await connected.until(lambda: len(connected.events) == 1)

    assert not release.is_set()
    assert not connected.stream.reconciled


async def test_reconciled_once_on_connect_has_finished_and_again_after_a_reconnect(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """Health reports the calls reconciled only after ``on_connect`` ends, per connection."""
    await connected.until(lambda: connected.stream.reconciled)
    release = asyncio.Event()
    connected.on_connect = release.wait
    await fake_ari.close_sockets()
    await connected.until(lambda: connected.reconciled == 2)
    assert not connected.stream.reconciled

    release.set()
    await connected.until(lambda: connected.stream.reconciled)


async def test_cancel_stops_cleanly(connected: Harness, fake_ari: FakeAsterisk) -> None:
    """Cancelling ``run()`` closes the socket and cancels a reconciliation still running."""
    cancelled = asyncio.Event()

    async def endless() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    connected.on_connect = endless
    await fake_ari.close_sockets()
    await connected.until(lambda: connected.reconciled == 2)
    assert connected.task is not None

    connected.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await connected.task

    assert cancelled.is_set()
    assert not connected.stream.connected
    await eventually(lambda: not fake_ari.sockets)


async def test_cancel_during_backoff(
    run_stream: Callable[[AriSettings], Harness], dead_url: str
) -> None:
    """Cancelling ``run()`` while it waits to reconnect ends it at once."""
    harness = run_stream(ari_settings(dead_url))
    harness.gate.clear()
    await harness.until(lambda: len(harness.delays) == 1)
    assert harness.task is not None

    harness.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await harness.task

    assert harness.task.cancelled()


async def test_silent_server_is_left_by_heartbeat(
    run_stream: Callable[[AriSettings], Harness], fake_ari: FakeAsterisk
) -> None:
    """A server that stops answering pings is dropped and reconnected to within a heartbeat."""
    fake_ari.answer_pings = False
    harness = run_stream(ari_settings(fake_ari.url, heartbeat_seconds=0.1))
    await harness.until(lambda: harness.stream.connections == 1)

    await harness.until(lambda: harness.stream.connections == 2)

    assert harness.delays[0] == MIN


async def test_another_connection_taking_our_application_is_said_loudly(
    connected: Harness, fake_ari: FakeAsterisk
) -> None:
    """ApplicationReplaced: an error naming the app, ``replaced`` until the next connection."""
    with capture_logs() as logs:
        await fake_ari.send(envelope("ApplicationReplaced"))
        await connected.until(lambda: connected.stream.replaced)
    [entry] = logged(logs, "ari.application_replaced")
    assert entry["log_level"] == "error"
    assert entry["app"] == APP
    assert connected.events == []

    await fake_ari.close_sockets()
    await connected.until(lambda: connected.stream.connections == 2)
    assert connected.stream.replaced is False

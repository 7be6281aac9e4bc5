"""Fail-open (seed 000 §5.5) and outbound calls, with real calls through Asterisk 22 (items 5-6)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from callrec_ari.app import EVENTS
from callrec_ari.ari.client import AriClient
from callrec_ari.config import AriSettings
from callrec_ari.config.parse import REGISTER_FILE
from callrec_ari.db import lookup
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox, Phone
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.sipp import CallerScript, CallResult, SippAgent, place_calls
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    acceptance_config,
    asterisk_log,
    imported_from_register,
    recordings_of,
    sandbox_settings,
    sha256_of,
    until,
)
from tests.acceptance.test_consent import reached_agent

pytestmark = pytest.mark.asterisk


def all_recordings(asterisk: AsteriskSandbox) -> set[Path]:
    """Every file in the sandbox's recordings folder but the register of unrecorded calls."""
    return {
        path
        for path in asterisk.recordings_service_dir.rglob("*")
        if not path.name.startswith(REGISTER_FILE)
    }


async def channels_in_app(asterisk: AsteriskSandbox) -> list[str]:
    """The channels now in callrec's Stasis application, asked of ARI directly."""
    s = asterisk.settings
    settings = AriSettings(
        url=s.ari_url, username=s.ari_user, password=s.ari_password, app=s.ari_app
    )
    async with aiohttp.ClientSession() as session:
        return await AriClient(session, settings).app_channel_ids()


async def test_calls_go_through_unrecorded_when_the_service_is_not_running(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """With no service, Stasis() fails at once and the dialplan connects the call unrecorded."""
    before = all_recordings(asterisk)
    caller = "48223000001"
    script = CallerScript(did="5551000", caller=caller, wait_ms=500, talk_ms=2000)
    result = await place_calls(asterisk.settings, script, tmp_path / "caller")
    assert result.ok, result.errors
    assert reached_agent(agent, caller)
    assert "Stasis status FAILED, connecting unrecorded" in asterisk_log(asterisk)
    assert all_recordings(asterisk) == before


async def test_a_call_connected_while_the_service_is_down_gets_its_row_when_it_is_back(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """Fail-open leaves no gap in the register of calls: the dialplan writes the call down,
    and the service, once started, stores it as service_unavailable with the caller, DID,
    agent and start, answer and end times within a second of what sipp saw; no recording."""
    register = asterisk.recordings_service_dir / REGISTER_FILE
    for stale in (register, register.with_name(register.name + ".importing")):
        stale.unlink(missing_ok=True)  # lines of earlier tests' fail-open calls
    before = all_recordings(asterisk)
    caller = "48223000006"
    script = CallerScript(did="5551000", caller=caller, wait_ms=500, talk_ms=2000)
    result = await place_calls(asterisk.settings, script, tmp_path / "caller")
    assert result.ok, result.errors
    [invited] = [line for line in agent.invites() if line.startswith(f"invite sip:{caller} ")]
    assert register.exists()

    row = await imported_from_register(asterisk, tmp_path, register)
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert (row.caller_number, row.dialled_number, row.agent) == (caller, "5551000", "agent100")
    assert row.languages == ()
    assert row.retention_policy == "days-7"  # the route of 5551000, as for a recorded call
    assert seconds_apart(row.started_at, sipp_time(invited)) < 1  # Dial() follows at once
    assert seconds_apart(row.answered_at, sipp_time(logged(result, "answered", caller))) < 1
    assert seconds_apart(row.ended_at, sipp_time(logged(result, "hangup", caller))) < 1
    assert all_recordings(asterisk) == before
    assert not register.exists()  # imported, then deleted


def logged(result: CallResult, event: str, caller: str) -> str:
    """The caller's sipp log line of ``event`` (answered, hangup)."""
    return next(line for line in result.log.splitlines() if line.startswith(f"{event} {caller} "))


def sipp_time(line: str) -> datetime:
    """The time in a sipp log line ``<event> <who> <seconds> <microseconds>``."""
    seconds, micros = line.split()[2:4]
    return datetime.fromtimestamp(float(seconds) + float(micros) / 1e6, UTC)


def seconds_apart(stored: datetime | None, seen: datetime) -> float:
    """How far a stored time is from what sipp saw on the wire."""
    assert stored is not None
    return abs((stored - seen).total_seconds())


async def test_a_service_killed_mid_announcement_lets_the_call_through_on_restart(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """Channels left in the application by a crashed service are connected, unrecorded."""
    process = ServiceProcess(acceptance_config(asterisk, tmp_path), tmp_path / "service")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    caller = "48223000002"
    script = CallerScript(did="5551000", caller=caller, wait_ms=8000, talk_ms=3000)
    call = asyncio.create_task(place_calls(asterisk.settings, script, tmp_path / "caller"))
    try:
        [channel] = await until(lambda: channels_in_app(asterisk), within=10)
        await asyncio.sleep(1.5)  # well inside the 27 s announcement
        process.kill()
        await asyncio.sleep(1)
        assert channel in await channels_in_app(asterisk)  # nobody let it go yet
        await asyncio.to_thread(process.start)
        result = await call

        async def ended() -> list[CallRecord] | None:
            rows = await lookup.latest(process.database_url, 10)
            return rows if rows and rows[0].ended_at is not None else None

        # The hang-up reaches the restarted service just after the caller's sipp is done:
        # stopping the service first would race it (the next start would then settle it).
        [row] = await until(ended, within=10)
    finally:
        call.cancel()
        process.stop()
    assert result.ok, result.errors
    assert reached_agent(agent, caller)
    assert row.uniqueid == channel
    assert row.consent == Consent.INTERRUPTED
    assert row.recording_status == RecordingStatus.NONE
    assert row.agent == "agent100"
    assert recordings_of(asterisk, channel) == []


async def test_a_call_that_ends_while_the_service_is_down_gets_its_complete_row_on_restart(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """Killed mid-conversation, the service adopts the call from its last snapshot on restart:
    the recording is settled and measured, and the call ends at the file's last write."""
    config = acceptance_config(asterisk, tmp_path)
    process = ServiceProcess(config, tmp_path / "service")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    caller = "48223000005"
    listen = int(announcement_seconds(sandbox_settings(asterisk, tmp_path), QUICK_DID) * 1000)
    script = CallerScript(did=QUICK_DID, caller=caller, wait_ms=listen + 1500, talk_ms=6000)
    call = asyncio.create_task(place_calls(asterisk.settings, script, tmp_path / "caller"))
    try:

        async def answered() -> bool:
            rows = await lookup.latest(process.database_url, 1)
            return bool(rows) and rows[0].agent is not None

        await until(answered, within=listen / 1000 + 15)
        process.kill()
        result = await call  # the conversation goes on and ends without the service
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_idle, 30)
    finally:
        call.cancel()
        process.stop()
    assert result.ok, result.errors
    assert reached_agent(agent, caller)
    [row] = await lookup.latest(process.database_url, 10)
    assert row.consent == Consent.GIVEN
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.ended_at is not None
    assert row.answered_at is not None
    wav = asterisk.recordings_service_dir / str(row.recording_path)
    assert row.sha256 == sha256_of(wav)
    assert row.duration_seconds == pytest.approx(6.0, abs=1.5)
    talk = (row.ended_at - row.answered_at).total_seconds()
    assert talk == pytest.approx(row.duration_seconds, abs=1.5)


async def test_the_service_reconnects_after_asterisk_restarts(service: Service, agent: SippAgent):
    """After Asterisk restarts, the service reconnects by itself and the next call is recorded."""
    events = service.app[EVENTS]
    assert events.connections == 1
    await asyncio.to_thread(service.asterisk.stop)
    await until(lambda: not events.connected, within=10)
    await asyncio.to_thread(service.asterisk.start)
    await until(lambda: events.connected, within=15)
    assert events.connections == 2
    caller = "48223000003"
    script = CallerScript(
        did=QUICK_DID, caller=caller, wait_ms=service.listen_ms(QUICK_DID), talk_ms=2000
    )
    result = await service.call(script)
    assert result.ok, result.errors
    [row] = await service.settled()
    assert row.consent == Consent.GIVEN
    assert row.recording_status == RecordingStatus.COMPLETE


async def test_outbound_calls_are_never_recorded(
    service: Service, asterisk: AsteriskSandbox, tmp_path: Path
):
    """A call a staff phone places to the outside never enters callrec and is not recorded."""
    outside = SippAgent(
        Phone(
            endpoint="trunk", host=asterisk.settings.trunk_host, port=asterisk.settings.trunk_port
        ),
        tmp_path / "outside",
        media_port=16500,
    )
    before = all_recordings(asterisk)
    outside.start()
    try:
        script = CallerScript(did="0048221234567", caller="agent100", wait_ms=500, talk_ms=2000)
        phone = asterisk.settings.phones[0]
        result = await place_calls(
            asterisk.settings, script, tmp_path / "phone", local_host=phone.host, local_port=5062
        )
        assert result.ok, result.errors
        assert any(line.startswith("invite sip:agent100 ") for line in outside.invites())
    finally:
        outside.stop()
    assert await service.settled() == []
    assert all_recordings(asterisk) == before


async def test_a_recording_that_cannot_be_written_never_stops_the_call(
    service: Service, agent: SippAgent
):
    """If MixMonitor cannot create its file the caller still talks to the agent; the row says so."""
    day = service.asterisk.recordings_service_dir / f"{datetime.now(UTC):%Y/%m/%d}"
    aside = day.with_name(day.name + ".aside")
    if day.exists():
        day.rename(aside)
    day.parent.mkdir(parents=True, exist_ok=True)
    day.write_text("a file where the day's folder should be\n")
    try:
        caller = "48223000004"
        listen = service.listen_ms(QUICK_DID)
        result = await service.call(CallerScript(did=QUICK_DID, caller=caller, wait_ms=listen))
        [row] = await service.settled(within=40)
    finally:
        day.unlink()
        if aside.exists():
            aside.rename(day)
    assert result.ok, result.errors
    assert reached_agent(agent, caller)
    assert row.consent == Consent.GIVEN
    assert row.agent == "agent100"
    assert row.recording_status == RecordingStatus.FAILED

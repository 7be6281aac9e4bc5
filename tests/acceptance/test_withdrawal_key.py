"""Withdrawal during the call on the real Asterisk (issue 11 §3, seeds 001 and 004): the caller's
decline key in the conversation stops the recording, the call goes on, and what was recorded
is deleted when the call ends; the agent's same key does nothing."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from callrec_ari.audit.withdrawals import ACTION, SYSTEM_ACTOR
from callrec_ari.db import lookup
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.recording.paths import service_path
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import SandboxSession
from callrec_ari.sandbox.sipp import CallerScript, CallResult, SippAgent, place_calls
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    acceptance_config,
    asterisk_log,
    recordings_of,
    sandbox_settings,
    sha256_of,
    until,
)

pytestmark = pytest.mark.asterisk

KEY = "9"  # [consent] decline_key of the example config
RING_MS = 300  # the session agent's ringing before it answers


def logged_at(line: str) -> datetime:
    """The time of a sipp log line ``<event> <who> <seconds> <microseconds>``."""
    seconds, micros = line.split()[2:4]
    return datetime.fromtimestamp(float(seconds) + float(micros) / 1e6, UTC)


def caller_logged(result: CallResult, event: str) -> datetime:
    """When the caller's sipp logged ``event`` (answered, pressed, hangup)."""
    return logged_at(next(line for line in result.log.splitlines() if line.startswith(f"{event} ")))


def agent_logged(agent: SippAgent, event: str, caller: str) -> datetime:
    """When the agent's sipp logged ``event`` (invite, bye) of this caller's call."""
    return logged_at(next(line for line in agent.log_lines(event) if f"sip:{caller} " in line))


async def audit_entries(database_url: str, target: str) -> list[AuditEntry]:
    """The audit trail's entries about one call."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            found = await session.scalars(select(AuditEntry).where(AuditEntry.target == target))
            return list(found)
    finally:
        await engine.dispose()


def log_since(asterisk: AsteriskSandbox, offset: int) -> str:
    """What Asterisk logged after ``offset`` characters of its log."""
    return asterisk_log(asterisk)[offset:]


async def test_the_callers_key_mid_call_stops_and_deletes_the_recording_and_the_call_goes_on(
    service: Service, agent: SippAgent, asterisk: AsteriskSandbox
):
    """3 s into the talk the caller presses the key: no file is left, the row says withdrawn at
    the key's time, the agent heard the tone and stayed bridged until the scripted hang-up."""
    caller = "48227000001"
    before = len(asterisk_log(asterisk))
    # The agent answers about RING_MS after the announcement ends; listen_ms leaves 1.5 s.
    wait_ms = service.listen_ms(QUICK_DID) - 1500 + RING_MS + 3000
    result = await service.call(
        CallerScript(did=QUICK_DID, caller=caller, wait_ms=wait_ms, press=KEY, talk_ms=4000)
    )
    assert result.ok, result.errors
    [row] = await service.settled()
    pressed = caller_logged(result, "pressed")
    hung_up = caller_logged(result, "hangup")

    assert row.consent == Consent.WITHDRAWN
    assert row.answered_at is not None
    assert row.ended_at is not None
    assert row.withdrawn_at is not None
    assert pressed.timestamp() - 0.2 < row.withdrawn_at.timestamp() < pressed.timestamp() + 1.0
    assert row.withdrawn_at < row.ended_at
    assert 2.0 < (row.withdrawn_at - row.answered_at).total_seconds() < 4.5
    # Nothing of the audio is kept, not even its fingerprint; the files are gone for good.
    assert row.recording_status == RecordingStatus.DELETED
    assert (row.recording_path, row.size_bytes, row.sha256, row.duration_seconds) == (
        None,
        None,
        None,
        None,
    )
    assert recordings_of(asterisk, row.uniqueid) == []
    # The call went on: the agent got the BYE only when the caller hung up, 4 s after the key.
    bye = agent_logged(agent, "bye", caller)
    assert abs((bye - hung_up).total_seconds()) < 1.0
    assert (bye - pressed).total_seconds() > 3.5
    assert (row.ended_at - row.withdrawn_at).total_seconds() > 3.5
    # The agent's channel heard the withdrawal tone (the applicationmap item's hold class).
    log = log_since(asterisk, before)
    assert re.search(
        r"Started music on hold, class 'callrec-withdrawn', on channel 'PJSIP/agent100-", log
    )
    assert "app_verbose.c: callrec: consent withdrawn at" in log
    assert "app_verbose.c: callrec: withdrawal marker not written" not in log
    # The deletion is on the audit trail, by the system, in the transaction of the row.
    [entry] = [
        e
        for e in await audit_entries(service.settings.database.url, row.uniqueid)
        if e.action == ACTION
    ]
    assert entry.actor == SYSTEM_ACTOR
    detail = json.loads(entry.detail)
    assert datetime.fromisoformat(detail["withdrawn_at"]) == row.withdrawn_at
    assert detail["recording"] == f"{row.started_at:%Y/%m/%d}/{row.uniqueid}.wav"


@pytest.fixture
def pressing_agent(sandbox_session: SandboxSession, tmp_path: Path) -> Iterator[SippAgent]:
    """In place of the session's staff phone, one that presses the withdrawal key 1.5 s after
    answering; the session's phone is back afterwards."""
    session_agent = sandbox_session.agent
    assert session_agent is not None
    session_agent.stop()
    presser = SippAgent(session_agent.phone, tmp_path / "agent", press=KEY, press_after_ms=1500)
    presser.start()
    try:
        yield presser
    finally:
        presser.stop()
        session_agent.start()


async def test_the_agent_pressing_the_same_key_does_not_withdraw(
    pressing_agent: SippAgent, service: Service, asterisk: AsteriskSandbox
):
    """The agent's key reaches Asterisk, yet the call stays recorded and its file is kept."""
    caller = "48227000002"
    before = len(asterisk_log(asterisk))
    result = await service.call(
        CallerScript(
            did=QUICK_DID, caller=caller, wait_ms=service.listen_ms(QUICK_DID), talk_ms=4000
        )
    )
    assert result.ok, result.errors
    [row] = await service.settled()
    log = log_since(asterisk, before)
    assert re.search(rf"DTMF end '{KEY}' received on PJSIP/agent100-", log), "the key never came"
    assert row.consent == Consent.GIVEN
    assert row.withdrawn_at is None
    assert row.recording_status == RecordingStatus.COMPLETE
    wav = service.wav(row)
    assert row.sha256 == sha256_of(wav)
    assert not wav.with_name(wav.name + ".withdrawn").exists()
    assert "class 'callrec-withdrawn'" not in log
    assert pressing_agent.log_lines("pressed"), "the agent's sipp never pressed the key"


async def test_a_withdrawal_while_the_service_is_down_deletes_the_recording_on_restart(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """The key pressed while callrec is killed still stops the recording (the dialplan's marker);
    the restarted service adopts the ended call and deletes the audio, row withdrawn."""
    config = acceptance_config(asterisk, tmp_path)
    process = ServiceProcess(config, tmp_path / "service")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    caller = "48227000003"
    listen = int(announcement_seconds(sandbox_settings(asterisk, tmp_path), QUICK_DID) * 1000)
    script = CallerScript(
        did=QUICK_DID, caller=caller, wait_ms=listen + RING_MS + 3000, press=KEY, talk_ms=5000
    )
    call = asyncio.create_task(place_calls(asterisk.settings, script, tmp_path / "caller"))
    try:

        async def answered() -> bool:
            rows = await lookup.latest(process.database_url, 1)
            return bool(rows) and rows[0].agent is not None

        await until(answered, within=listen / 1000 + 15)
        [recording] = await lookup.latest(process.database_url, 1)
        process.kill()
        assert recording.recording_path is not None
        wav = service_path(asterisk.recordings_service_dir, recording.recording_path)
        marker = wav.with_name(wav.name + ".withdrawn")
        await until(marker.exists, within=10)  # Asterisk's own record, callrec being down
        result = await call  # the conversation goes on and ends without the service
        assert wav.exists()  # nobody has deleted it yet
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_idle, 30)
    finally:
        call.cancel()
        process.stop()
    assert result.ok, result.errors
    pressed = caller_logged(result, "pressed")
    [row] = await lookup.latest(process.database_url, 10)
    assert row.consent == Consent.WITHDRAWN
    assert row.withdrawn_at is not None
    assert abs(row.withdrawn_at.timestamp() - pressed.timestamp()) < 1.0
    assert row.recording_status == RecordingStatus.DELETED
    assert row.sha256 is None
    assert recordings_of(asterisk, row.uniqueid) == []
    [entry] = await audit_entries(process.database_url, row.uniqueid)
    assert entry.action == ACTION

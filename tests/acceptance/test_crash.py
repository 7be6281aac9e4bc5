"""Asterisk killed mid-conversation (issue 15), on the real Asterisk 22: the recordings it
leaves open are repaired and settled complete, whether callrec was running (reconnect) or
down too (adoption on its start), and the staff app plays them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.app import EVENTS
from callrec_ari.db import lookup
from callrec_ari.evidence.facts import Kind
from callrec_ari.flow import notes
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.sipp import CallerScript, SippAgent, place_calls
from callrec_ari.web.app import build_web_app
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    acceptance_config,
    add_supervisor,
    sandbox_settings,
    sha256_of,
    until,
)
from tests.support.passwords import CHEAP_TABLE
from tests.web.conftest import Person, sign_in
from tests.web.test_calls import listen

pytestmark = pytest.mark.asterisk

CALLS = 2
TALK_BEFORE_KILL = 6.0  # seconds of conversation before Asterisk dies
UNFLUSHED = 32768 / 16000  # seconds of audio in one full write buffer of Asterisk's


async def answered(rows: list[CallRecord]) -> bool:
    """Whether every call is in conversation with the agent."""
    return len(rows) == CALLS and all(row.answered_at is not None for row in rows)


def kill_asterisk(asterisk: AsteriskSandbox) -> datetime:
    """SIGKILL Asterisk (as a crash or a power loss would); the moment it died."""
    asterisk.kill()
    return datetime.now(UTC)


def check_settled(rows: list[CallRecord], recordings: Path, killed_at: datetime) -> None:
    """Every call complete, cut by the PBX, with a playable WAV matching its row."""
    assert len(rows) == CALLS
    for row in rows:
        assert row.consent == Consent.GIVEN
        assert row.recording_status == RecordingStatus.COMPLETE, row
        assert row.interrupted_by == "pbx"
        assert any(f.kind == Kind.NOTE and f.note == notes.PBX_FAILED for f in row.evidence)
        mix = recordings / str(row.recording_path)
        with wave.open(str(mix), "rb") as wav:  # standard tools read it again
            seconds = wav.getnframes() / wav.getframerate()
        assert row.duration_seconds == pytest.approx(seconds)
        assert row.answered_at is not None
        # Asterisk writes through a 32 KB stdio buffer (main/file.c): up to 2.048 s of 8 kHz
        # audio were still in its memory when it died, and died with it.
        talk = (killed_at - row.answered_at).total_seconds()
        assert talk - UNFLUSHED - 1.0 <= seconds <= talk + 1.0, (seconds, talk)
        assert row.ended_at is not None
        # What the file holds is the talk up to its last write, which the row ends at.
        held = (row.ended_at - row.answered_at).total_seconds()
        assert seconds == pytest.approx(held, abs=1.0), (seconds, held)
        assert row.sha256 == sha256_of(mix)
        assert row.size_bytes == mix.stat().st_size
        caller, agent = leg_files(mix)
        assert row.caller_leg_sha256 == sha256_of(caller)
        assert row.agent_leg_sha256 == sha256_of(agent)
        mtime = datetime.fromtimestamp(mix.stat().st_mtime, UTC)
        assert abs((row.ended_at - mtime).total_seconds()) <= 1.0
        assert abs((killed_at - row.ended_at).total_seconds()) <= 3.0  # not the reconnect


async def test_calls_cut_by_an_asterisk_crash_are_repaired_and_play_in_the_staff_app(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """callrec running: Asterisk SIGKILLed mid-conversation and started again; callrec
    reconnects, repairs the open WAVs and settles every call complete, interrupted by the PBX,
    ended at the audio's last write; the staff app plays the recording byte for byte."""
    service = Service(
        sandbox_settings(asterisk, tmp_path, passwords=CHEAP_TABLE), asterisk, tmp_path
    )
    await service.start()
    try:
        script = CallerScript(
            did=QUICK_DID,
            caller="4822150[call_number]",
            wait_ms=service.listen_ms(QUICK_DID),
            talk_ms=60_000,
        )
        calls = asyncio.create_task(service.call(script, calls=CALLS, rate=5))
        try:
            await until(lambda: answered_rows(service.settings.database.url), within=30, step=0.2)
            await asyncio.sleep(TALK_BEFORE_KILL)
            killed_at = await asyncio.to_thread(kill_asterisk, asterisk)
            events = service.app[EVENTS]
            await until(lambda: not events.connected, within=10)
        finally:
            await stopped(calls)  # the callers' PBX is gone: their sipp is stopped
        started = time.monotonic()
        await asyncio.to_thread(asterisk.start)
        rows = await service.settled(within=30)
        settle_seconds = time.monotonic() - started
        check_settled(rows, asterisk.recordings_service_dir, killed_at)
        assert settle_seconds < 20  # not the 30 s a closing file may take
        await plays_in_the_staff_app(service, rows[0])
    finally:
        await service.stop()


async def stopped(calls: asyncio.Task[object]) -> None:
    """Stop the callers' sipp (cancelling kills it) and wait until it is gone."""
    calls.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await calls


async def answered_rows(database_url: str) -> bool:
    """Whether every call placed is stored as answered by the agent."""
    return await answered(await lookup.latest(database_url, 10))


async def plays_in_the_staff_app(service: Service, row: CallRecord) -> None:
    """A supervisor opens the call and the app serves the repaired WAV as stored."""
    await add_supervisor(service.settings.database.url)
    app = build_web_app(service.settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await sign_in(client, Person("sue", frozenset({Role.SUPERVISOR}), None, None), clock=None)
        assert (await listen(client, row.uniqueid)).status == 303
        response = await client.get(f"/calls/{row.uniqueid}/audio")
        assert response.status == 200
        assert hashlib.sha256(await response.read()).hexdigest() == row.sha256


async def test_calls_cut_while_callrec_was_down_too_are_repaired_on_its_start(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """callrec killed mid-conversation, then Asterisk killed; both started again: callrec
    adopts the calls from their rows and settles them from the repaired files."""
    config = acceptance_config(asterisk, tmp_path)
    process = ServiceProcess(config, tmp_path / "service")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    listen_ms = int(announcement_seconds(sandbox_settings(asterisk, tmp_path), QUICK_DID) * 1000)
    script = CallerScript(
        did=QUICK_DID, caller="4822160[call_number]", wait_ms=listen_ms + 1500, talk_ms=60_000
    )
    workdir = tmp_path / "caller"
    calls = asyncio.create_task(
        place_calls(asterisk.settings, script, workdir, calls=CALLS, rate=5)
    )
    try:
        await until(lambda: answered_rows(process.database_url), within=30, step=0.2)
        await asyncio.sleep(TALK_BEFORE_KILL)
        process.kill()
        killed_at = await asyncio.to_thread(kill_asterisk, asterisk)
        await stopped(calls)
        await asyncio.to_thread(asterisk.start)
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_idle, 30)
        rows = await lookup.latest(process.database_url, 10)
    finally:
        await stopped(calls)
        process.stop()
    check_settled(rows, asterisk.recordings_service_dir, killed_at)

"""Overload on the real Asterisk (issue 13 §2): callers the service cannot take are connected
at once, unrecorded and unannounced, with the outcome ``overloaded``; calls already in the
consent step are recorded as usual, and nothing is lost: every WAV belongs to a row, every
consenting caller who was not shed has a complete recording."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import QUICK_DID, Service, sandbox_settings

pytestmark = pytest.mark.asterisk

CALLS = 6
ROOM = 2  # calls the service takes into the consent step at once


@pytest.fixture
async def crowded(asterisk: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Service]:
    """The service with room for two calls in the consent step at a time."""
    settings = sandbox_settings(
        asterisk, tmp_path, overload={"max_calls_in_consent": ROOM, "hold_seconds": 1}
    )
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    yield service
    await service.stop()


async def test_callers_beyond_the_room_are_connected_at_once_and_nothing_is_lost(
    crowded: Service, agent: SippAgent, asterisk: AsteriskSandbox
):
    """Six callers at once with room for two: two are announced and recorded, four reach the
    agent at once, unrecorded, ``overloaded`` with the reason in their evidence; every WAV
    on disk is a row's; once the crowd is gone a new caller is announced and recorded again."""
    before = agent.invites()
    script = CallerScript(
        did=QUICK_DID,
        caller="4822330[call_number]",
        wait_ms=crowded.listen_ms(QUICK_DID),
        talk_ms=2000,
    )
    result = await crowded.call(script, calls=CALLS, rate=50, concurrent=CALLS)
    assert result.ok, result.errors
    rows = await crowded.settled(within=60)
    outcomes = Counter(f"{row.consent}/{row.recording_status}" for row in rows)
    assert outcomes == {"given/complete": ROOM, "overloaded/none": CALLS - ROOM}
    assert len(agent.invites()) - len(before) == CALLS  # everybody reached the agent
    shed = [row for row in rows if row.consent == Consent.OVERLOADED]
    for row in shed:
        assert row.recording_path is None
        assert row.agent == "agent100"
        assert any("calls_in_consent" in (fact.note or "") for fact in row.evidence)
    known = {row.recording_path for row in rows if row.recording_path}
    recordings = asterisk.recordings_service_dir
    mixes = {
        str(wav.relative_to(recordings))
        for wav in recordings.rglob("*.wav")
        if wav.name.count(".") == 2 and any(row.uniqueid in wav.name for row in rows)
    }
    assert mixes == known
    await asyncio.sleep(1.5)  # past hold_seconds
    again = await crowded.call(
        CallerScript(
            did=QUICK_DID, caller="48223309999", wait_ms=crowded.listen_ms(QUICK_DID), talk_ms=1500
        )
    )
    assert again.ok, again.errors
    latest = [row for row in await crowded.settled() if row.caller_number == "48223309999"]
    assert [(row.consent, row.recording_status) for row in latest] == [
        (Consent.GIVEN, RecordingStatus.COMPLETE)
    ]

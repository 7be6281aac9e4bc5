"""A caller on the do-not-record list is connected unrecorded through the real Asterisk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callrec_ari.app import DO_NOT_RECORD
from callrec_ari.db.models import DoNotRecord
from callrec_ari.db.session import open_sessions
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import (
    Service,
    asterisk_log,
    recordings_of,
    sandbox_settings,
    until,
)
from tests.acceptance.test_consent import played_prompts, reached_agent

pytestmark = pytest.mark.asterisk


async def test_a_listed_caller_hears_the_notice_and_is_connected_unrecorded(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """The number is added in the database; the service picks it up and honours it."""
    settings = sandbox_settings(asterisk, tmp_path, consent={"do_not_record_refresh_seconds": 0.2})
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    try:
        async with open_sessions(settings.database.url) as sessions, sessions() as session:
            session.add(
                DoNotRecord(
                    number_e164="+48225000001",
                    added_at=datetime.now(UTC),
                    added_by="dpo",
                    reason="consent withdrawn",
                )
            )
            await session.commit()
        await until(lambda: len(service.app[DO_NOT_RECORD]) == 1, within=5)
        caller = "48225000001"
        notice = prompt_duration(settings.prompts.source_dir / "pl" / "not-recorded.wav")
        script = CallerScript(
            did="5551000", caller=caller, wait_ms=int(notice * 1000) + 1500, talk_ms=2000
        )
        result = await service.call(script)
        assert result.ok, result.errors
        [row] = await service.settled()
    finally:
        await service.stop()
    assert reached_agent(agent, caller)
    assert row.consent == Consent.OPTED_OUT
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert row.agent == "agent100"
    assert recordings_of(asterisk, row.uniqueid) == []
    # Only this test plays the notice, so one trunk channel heard it, and nothing else.
    heard = [
        p for p in played_prompts(asterisk_log(asterisk)).values() if ("not-recorded", "pl") in p
    ]
    assert heard == [[("not-recorded", "pl")]]

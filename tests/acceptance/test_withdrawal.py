"""Withdrawing consent end to end (seed 001, seed 000 §4.6): a real recorded call, then
`callrec erase --do-not-record`, then the next call from that number goes unrecorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.app import DO_NOT_RECORD
from callrec_ari.config import load
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.session import PROJECT_DIR
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import (
    QUICK_DID,
    Service,
    acceptance_config,
    recordings_of,
    until,
)
from tests.acceptance.test_consent import reached_agent

pytestmark = pytest.mark.asterisk


async def test_erasure_deletes_the_recording_and_the_next_call_is_not_recorded(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The recorded call's file goes and its row loses the number; the next call is opted out."""
    data = acceptance_config(asterisk, tmp_path, consent={"do_not_record_refresh_seconds": 0.2})
    data["prompts"]["source_dir"] = str(PROJECT_DIR / "prompts")
    config = tmp_path / "callrec.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    settings = load(config, {})
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    caller = "48226000001"
    try:
        first = await service.call(
            CallerScript(
                did=QUICK_DID, caller=caller, wait_ms=service.listen_ms(QUICK_DID), talk_ms=2000
            )
        )
        assert first.ok, first.errors
        [recorded] = await service.settled()
        assert recorded.recording_status == RecordingStatus.COMPLETE
        wav = service.wav(recorded)
        assert wav.exists()

        status = await asyncio.to_thread(
            main,
            [
                "erase",
                "+48 22 600 00 01",
                "--do-not-record",
                "--reason",
                "consent withdrawn",
                "-c",
                str(config),
            ],
        )
        assert status == 0, capsys.readouterr().err
        assert not wav.exists()
        assert recordings_of(asterisk, recorded.uniqueid) == []

        await until(lambda: len(service.app[DO_NOT_RECORD]) == 1, within=5)
        notice = prompt_duration(settings.prompts.source_dir / "pl" / "not-recorded.wav")
        second = await service.call(
            CallerScript(
                did="5551000", caller=caller, wait_ms=int(notice * 1000) + 1500, talk_ms=2000
            )
        )
        assert second.ok, second.errors
        rows = {row.uniqueid: row for row in await service.settled()}
    finally:
        await service.stop()
    erased = rows.pop(recorded.uniqueid)
    assert erased.caller_number is None
    assert erased.recording_status == RecordingStatus.DELETED
    assert erased.recording_path is None
    [unrecorded] = rows.values()
    assert unrecorded.caller_number == caller
    assert unrecorded.consent == Consent.OPTED_OUT
    assert unrecorded.recording_status == RecordingStatus.NONE
    assert recordings_of(asterisk, unrecorded.uniqueid) == []
    assert reached_agent(agent, caller)

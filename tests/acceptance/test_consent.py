"""Consent-gated recording of real SIP calls through Asterisk 22 (items 1-4 and 7 of the issue)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from callrec_ari.records import Consent, Direction, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import (
    Service,
    asterisk_log,
    recordings_of,
    sandbox_settings,
    sha256_of,
    wav_rms,
)
from tests.acceptance.test_metrics import LATENCY, scrape

pytestmark = pytest.mark.asterisk


def reached_agent(agent: SippAgent, caller: str) -> bool:
    """Whether the staff phone received an INVITE from this caller."""
    return any(line.startswith(f"invite sip:{caller} ") for line in agent.invites())


async def test_staying_on_records_only_the_bridged_talk(service: Service, agent: SippAgent):
    """A caller who stays on is recorded from the agent's answer to the hang-up; the row says so."""
    caller = "48221000001"
    script = CallerScript(
        did="5551000", caller=caller, wait_ms=service.listen_ms("5551000"), talk_ms=4000
    )
    result = await service.call(script)
    assert result.ok, result.errors
    [row] = await service.settled()
    assert reached_agent(agent, caller)
    assert row.direction == Direction.INBOUND
    assert row.caller_number == caller
    assert row.dialled_number == "5551000"
    assert row.linkedid == row.uniqueid
    assert row.agent == "agent100"
    assert row.languages == ("pl",)
    assert row.consent == Consent.GIVEN
    assert row.retention_policy == "days-7"
    assert row.started_at < row.answered_at < row.ended_at  # type: ignore[operator]
    assert row.recording_status == RecordingStatus.COMPLETE
    wav = service.wav(row)
    assert row.recording_path == f"{row.started_at:%Y/%m/%d}/{row.uniqueid}.wav"
    talk_seconds = (row.ended_at - row.answered_at).total_seconds()  # type: ignore[operator]
    assert row.duration_seconds == pytest.approx(talk_seconds, abs=1.0)
    # Option b: neither the announcement nor the ringing is in the file.
    assert row.duration_seconds < (row.ended_at - row.started_at).total_seconds() - 5  # type: ignore[operator]
    assert row.size_bytes == wav.stat().st_size
    assert row.sha256 == sha256_of(wav)
    assert wav_rms(wav) > 200, "the recording is silent"
    assert not wav.with_name(wav.name + ".done").exists()


async def test_every_language_is_found_and_played(service: Service, agent: SippAgent):
    """Asterisk plays each route's prompts in its languages (Finnish, then Swedish on one)."""
    routes = {
        "5551000": ["pl"],
        "5552000": ["fi", "sv"],
        "5553000": ["sv"],
        "5554000": ["ro"],
        "5559999": ["en"],
    }
    callers = {did: f"4822200{index:04d}" for index, did in enumerate(routes)}
    results = await asyncio.gather(
        *(
            service.call(
                CallerScript(
                    did=did, caller=callers[did], wait_ms=service.listen_ms(did), talk_ms=1500
                ),
                media_port=18000 + 100 * index,
                local_port=5080 + index,
            )
            for index, did in enumerate(routes)
        )
    )
    assert all(r.ok for r in results), [r.errors for r in results]
    rows = {row.dialled_number: row for row in await service.settled()}
    for did, languages in routes.items():
        assert rows[did].languages == tuple(languages)
        assert rows[did].consent == Consent.GIVEN, f"{did}: a prompt failed to play"
        assert rows[did].recording_status == RecordingStatus.COMPLETE
    played = played_prompts(asterisk_log(service.asterisk))
    by_language = {
        tuple(lang for name, lang in prompts if name == "announcement"): channel
        for channel, prompts in played.items()
    }
    for languages in routes.values():
        assert tuple(languages) in by_language, f"no channel heard the {languages} announcement"
    fi_sv = played[by_language[("fi", "sv")]]
    assert fi_sv == [
        ("announcement", "fi"),
        ("decline-hint", "fi"),
        ("announcement", "sv"),
        ("decline-hint", "sv"),
    ]


def played_prompts(log: str) -> dict[str, list[tuple[str, str]]]:
    """callrec prompts Asterisk played, per channel, in order: {channel: [(name, language)]}.

    Channel names restart from zero each time Asterisk starts, and one log spans several
    starts, so each channel is keyed by the start it belongs to ("2:PJSIP/trunk-00000003").
    """
    played: dict[str, list[tuple[str, str]]] = {}
    pattern = r"<(PJSIP/trunk-[0-9a-f]+)> Playing 'callrec/([\w-]+)\.\w+' \(language '(\w+)'\)"
    for boot, part in enumerate(log.split("asterisk.c: Asterisk Ready.")):
        for channel, name, language in re.findall(pattern, part):
            played.setdefault(f"{boot}:{channel}", []).append((name, language))
    return played


async def test_hanging_up_during_the_announcement_records_nothing(
    service: Service, agent: SippAgent, capfd: pytest.CaptureFixture[str]
):
    """A caller who leaves during the announcement gets a row saying abandoned and no file.

    Asterisk 22 reports the hang-up request before the playback it cuts ends, and the call
    ends there: a playback's end alone cannot tell a hang-up from a heard announcement.
    """
    caller = "48221000003"
    result = await service.call(CallerScript(did="5551000", caller=caller, wait_ms=0, talk_ms=2000))
    assert result.ok, result.errors
    [row] = await service.settled()
    ended = [
        line
        for line in capfd.readouterr().out.splitlines()
        if "call.transition" in line and "to_phase=done" in line and row.uniqueid in line
    ]
    assert len(ended) == 1
    assert "cause=HangUpRequested" in ended[0]
    assert row.consent == Consent.ABANDONED
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert row.ended_at is not None
    assert row.agent is None
    assert not reached_agent(agent, caller)
    assert recordings_of(service.asterisk, row.uniqueid) == []


async def test_decline_key_connects_the_caller_unrecorded(service: Service, agent: SippAgent):
    """Pressing 9 during the announcement connects the caller to the agent with nothing recorded."""
    caller = "48221000004"
    script = CallerScript(did="5551000", caller=caller, wait_ms=2000, press="9", talk_ms=3000)
    result = await service.call(script)
    assert result.ok, result.errors
    [row] = await service.settled()
    assert row.consent == Consent.DECLINED
    assert row.agent == "agent100"
    assert row.answered_at is not None
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert reached_agent(agent, caller)
    assert recordings_of(service.asterisk, row.uniqueid) == []


async def test_decline_on_a_hang_up_route_plays_the_decline_prompt_and_ends(
    service: Service, agent: SippAgent
):
    """On a route set to hang up, the decliner hears the decline prompt and the PBX hangs up."""
    caller = "48221000005"
    script = CallerScript(
        did="5554000", caller=caller, wait_ms=2000, press="9", far_end_hangs_up=True
    )
    result = await service.call(script)
    assert result.ok, result.errors  # sipp received the PBX's BYE
    [row] = await service.settled()
    assert row.consent == Consent.DECLINED
    assert row.agent is None
    assert row.recording_path is None
    assert not reached_agent(agent, caller)
    assert ("declined", "ro") in [
        prompt
        for prompts in played_prompts(asterisk_log(service.asterisk)).values()
        for prompt in prompts
    ]


async def test_a_service_whose_config_differs_from_the_globals_names_the_file_itself(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """The sandbox's CALLREC_WITHDRAW_FEATURE is the example's decline key's; a service with
    another key sets CALLREC_FILE and the item on the channel instead of leaving them to the
    dialplan: the call is recorded under the same path all the same."""
    settings = sandbox_settings(asterisk, tmp_path, consent={"decline_key": "8"})
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    try:
        caller = "48221000077"
        script = CallerScript(
            did="5551000", caller=caller, wait_ms=service.listen_ms("5551000"), talk_ms=2000
        )
        result = await service.call(script)
        assert result.ok, result.errors
        [row] = await service.settled()
        seen = await scrape(service)
    finally:
        await service.stop()
    assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
    assert row.recording_path == f"{row.started_at:%Y/%m/%d}/{row.uniqueid}.wav"
    assert row.sha256 == sha256_of(service.wav(row))
    variables = {"method": "POST", "route": "/channels/{id}/variable"}
    assert seen.value(f"{LATENCY}_count", **variables) == 2  # the file, and the item

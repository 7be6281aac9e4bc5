"""Outbound calls with consent (issue 11 §4, seed 004), with real calls through Asterisk 22.

A staff phone (sipp on agent100's address) dials 9 + the number; the sandbox's [phones]
context sends that through callrec-outbound, whose Dial() reaches the outside callee (sipp on
the trunk's address), who answers, hears the outbound announcement and presses a key or not.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import parse
from callrec_ari.config.parse import REGISTER_FILE
from callrec_ari.db import lookup
from callrec_ari.evidence.facts import Kind
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox, Phone
from callrec_ari.sandbox.session import PROJECT_DIR
from callrec_ari.sandbox.sipp import CallerScript, CallResult, SippAgent, place_calls
from tests.acceptance.conftest import (
    Service,
    acceptance_config,
    asterisk_log,
    recordings_of,
    sha256_of,
    until,
)
from tests.acceptance.test_fail_open import all_recordings
from tests.acceptance.test_withdrawal_key import caller_logged, logged_at

pytestmark = pytest.mark.asterisk

CALLEE = "0040211234567"  # a Romanian number, as seed 004's call centre calls
STAFF = "agent100"
# The composed outbound announcement is issue 11 §1's (prompts/<lang>/outbound-announcement);
# these tests play the short decline hint in its place, so each call takes seconds.
PROMPT = "decline-hint"
ANNOUNCEMENT_MS = 2800  # prompts/en/decline-hint.wav: 2.75 s


def outbound_config(asterisk: AsteriskSandbox, tmp_path: Path, **route: Any) -> dict[str, Any]:
    """The acceptance config with outbound consent on for numbers starting 0040."""
    data = acceptance_config(asterisk, tmp_path)
    data["outbound"] = {"enabled": True}
    data["outbound_route"] = [
        {
            "prefixes": ["0040"],
            "languages": ["en"],
            "retention": "months-6",
            "timeout_seconds": 3,
            "prompt": PROMPT,
            **route,
        }
    ]
    return data


@pytest.fixture
def callee_phone(asterisk: AsteriskSandbox) -> Phone:
    """The outside party: a phone on the trunk's address, where outbound calls go."""
    s = asterisk.settings
    return Phone(endpoint="trunk", host=s.trunk_host, port=s.trunk_port)


class Outbound:
    """Places one staff call to ``CALLEE`` with a callee that presses ``press`` (or nothing)."""

    def __init__(self, asterisk: AsteriskSandbox, callee_phone: Phone, tmp_path: Path) -> None:
        self.asterisk = asterisk
        self.callee_phone = callee_phone
        self.tmp_path = tmp_path
        self.callee: SippAgent | None = None

    async def call(
        self,
        *,
        press: str | None = None,
        press_ms: int = 0,
        then: Sequence[tuple[str, int]] = (),
        talk_ms: int = 2500,
        staff_press: str | None = None,
        staff_press_ms: int = 0,
    ) -> CallResult:
        """The staff phone dials 9 + CALLEE and talks ``talk_ms`` once connected (after
        pressing ``staff_press`` ``staff_press_ms`` in, if given); the callee presses ``press``
        ``press_ms`` after answering, then each (key, delay) of ``then``."""
        self.callee = SippAgent(
            self.callee_phone,
            self.tmp_path / "callee",
            media_port=16500,
            press=press,
            press_after_ms=press_ms,
            presses=then,
        )
        self.callee.start()
        try:
            script = CallerScript(
                did=f"9{CALLEE}",
                caller=STAFF,
                talk_ms=talk_ms,
                press=staff_press,
                wait_ms=staff_press_ms,
            )
            phone = self.asterisk.settings.phones[0]
            return await place_calls(
                self.asterisk.settings,
                script,
                self.tmp_path / "staff",
                local_host=phone.host,
                local_port=5062,
                timeout_seconds=40,
            )
        finally:
            self.callee.stop()

    def seconds_from_callee_invite_to_staff_answer(self, result: CallResult) -> float:
        """How long after the callee's phone rang the staff phone was connected (sipp clocks)."""
        assert self.callee is not None
        invited = next(line for line in self.callee.invites() if f"sip:{STAFF} " in line)
        answered = next(line for line in result.log.splitlines() if line.startswith("answered "))

        def seconds(line: str) -> float:
            sec, usec = line.split()[2:4]
            return float(sec) + float(usec) / 1e6

        return seconds(answered) - seconds(invited)

    def callee_was_called(self) -> bool:
        """Whether the outside phone got the staff member's call."""
        assert self.callee is not None
        return any(line.startswith(f"invite sip:{STAFF} ") for line in self.callee.invites())


@pytest.fixture
def outbound(asterisk: AsteriskSandbox, callee_phone: Phone, tmp_path: Path) -> Outbound:
    """A staff call maker for this test."""
    return Outbound(asterisk, callee_phone, tmp_path)


@contextlib.asynccontextmanager
async def running(
    asterisk: AsteriskSandbox, tmp_path: Path, data: dict[str, Any]
) -> AsyncIterator[Service]:
    """A service on ``data`` for the duration of one test."""
    service = Service(parse(data, {}, base_dir=PROJECT_DIR), asterisk, tmp_path)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def agreeing_service(asterisk: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Service]:
    """Outbound consent on; callees who do not agree are connected unrecorded."""
    async with running(asterisk, tmp_path, outbound_config(asterisk, tmp_path)) as service:
        yield service


@pytest.fixture
async def hangup_service(asterisk: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Service]:
    """Outbound consent on; a call whose callee does not agree is ended."""
    data = outbound_config(asterisk, tmp_path, on_no_consent="hangup")
    async with running(asterisk, tmp_path, data) as service:
        yield service


def only_row(rows: list[CallRecord]) -> CallRecord:
    """The one row the call left."""
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_callee_who_presses_the_agree_key_is_recorded(
    agreeing_service: Service, outbound: Outbound
):
    """Agree key after the announcement: MixMonitor starts; the row is outbound, consent given,
    the callee's number where rights requests look and the staff phone as agent."""
    result = await outbound.call(press="1", press_ms=ANNOUNCEMENT_MS + 1200)
    assert result.ok, result.errors
    assert outbound.callee_was_called()
    # The staff member is connected only once the callee heard the announcement and agreed.
    assert outbound.seconds_from_callee_invite_to_staff_answer(result) > ANNOUNCEMENT_MS / 1000
    row = only_row(await agreeing_service.settled())
    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.GIVEN
    assert row.caller_e164 == "+40211234567"
    assert row.dialled_number == CALLEE
    assert row.agent == STAFF
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.retention_policy == "months-6"
    wav = agreeing_service.wav(row)
    assert wav.is_file()
    assert row.sha256 == sha256_of(wav)
    assert row.duration_seconds is not None
    assert row.duration_seconds > 1


async def test_the_callee_who_agreed_withdraws_with_the_decline_key_and_the_call_goes_on(
    agreeing_service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """The callee agrees with 1, then presses 9 about 3 s into the conversation: MixMonitor
    stops (the feature works on Dial()'s callee channel, set inside U() before the bridge),
    the staff phone hears the tone and talks on to its scripted hang-up, the row is outbound
    withdrawn at the key's time and no file of the call is left."""
    before = len(asterisk_log(asterisk))
    result = await outbound.call(
        press="1", press_ms=ANNOUNCEMENT_MS + 1200, then=[("9", 3000)], talk_ms=7000
    )
    assert result.ok, result.errors  # the staff phone talked its 7 s and hung up itself
    assert outbound.callee is not None
    [agreed, withdrew] = [logged_at(line) for line in outbound.callee.log_lines("pressed")]
    answered = caller_logged(result, "answered")
    hung_up = caller_logged(result, "hangup")
    row = only_row(await agreeing_service.settled())

    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.WITHDRAWN
    assert row.withdrawn_at is not None
    assert row.ended_at is not None
    assert withdrew.timestamp() - 0.2 < row.withdrawn_at.timestamp() < withdrew.timestamp() + 1.0
    assert agreed < answered < withdrew  # bridged between the two keys...
    assert 2.0 < (withdrew - answered).total_seconds() < 4.5  # ...and the 9 about 3 s in
    # Nothing of the audio is kept, not even its fingerprint.
    assert row.recording_status == RecordingStatus.DELETED
    assert (row.recording_path, row.size_bytes, row.sha256, row.duration_seconds) == (
        None,
        None,
        None,
        None,
    )
    assert recordings_of(asterisk, row.uniqueid) == []
    # The call went on: the callee got the BYE only when the staff phone hung up, as scripted.
    [bye] = [logged_at(line) for line in outbound.callee.log_lines("bye")]
    assert abs((bye - hung_up).total_seconds()) < 1.0
    assert (bye - withdrew).total_seconds() > 3.0
    assert (row.ended_at - row.withdrawn_at).total_seconds() > 3.0
    # Asterisk ran the withdrawal on the callee's channel; the staff phone heard the tone.
    log = asterisk_log(asterisk)[before:]
    assert "app_verbose.c: callrec: consent withdrawn at" in log
    assert "app_verbose.c: callrec: withdrawal marker not written" not in log
    assert re.search(
        r"Started music on hold, class 'callrec-withdrawn', on channel 'PJSIP/agent100-", log
    )
    assert [f.at for f in row.evidence if f.kind == Kind.WITHDRAWN] == [row.withdrawn_at]


async def test_the_staff_phone_pressing_the_decline_key_does_not_withdraw(
    agreeing_service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """The consent is the callee's to take back: the staff member's 9, 3 s into the talk,
    reaches Asterisk, yet the call stays recorded and its file is kept."""
    before = len(asterisk_log(asterisk))
    result = await outbound.call(
        press="1",
        press_ms=ANNOUNCEMENT_MS + 1200,
        talk_ms=3000,
        staff_press="9",
        staff_press_ms=3000,
    )
    assert result.ok, result.errors
    assert caller_logged(result, "pressed")  # the staff phone did press it
    row = only_row(await agreeing_service.settled())
    log = asterisk_log(asterisk)[before:]
    assert re.search(r"DTMF end '9' received on PJSIP/agent100-", log), "the key never came"
    assert row.consent == Consent.GIVEN
    assert row.withdrawn_at is None
    assert row.recording_status == RecordingStatus.COMPLETE
    wav = agreeing_service.wav(row)
    assert row.sha256 == sha256_of(wav)
    assert not wav.with_name(wav.name + ".withdrawn").exists()
    assert "class 'callrec-withdrawn'" not in log


async def test_a_callee_who_presses_no_key_is_connected_unrecorded(
    agreeing_service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """No key within the timeout: the two still talk, nothing is recorded, the row says so."""
    before = all_recordings(asterisk)
    result = await outbound.call()
    assert result.ok, result.errors  # the staff phone was answered and talked
    row = only_row(await agreeing_service.settled())
    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.NO_RESPONSE
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert all_recordings(asterisk) == before


async def test_a_callee_who_presses_another_key_is_connected_unrecorded(
    agreeing_service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """Another key, even mid-announcement, refuses at once: connected, nothing recorded."""
    before = all_recordings(asterisk)
    result = await outbound.call(press="5", press_ms=1500)
    assert result.ok, result.errors
    row = only_row(await agreeing_service.settled())
    assert row.consent == Consent.DECLINED
    assert row.recording_status == RecordingStatus.NONE
    assert all_recordings(asterisk) == before


async def test_a_route_that_hangs_up_ends_the_call_without_consent(
    hangup_service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """on_no_consent = "hangup": no key in time ends the call before the two are connected."""
    before = all_recordings(asterisk)
    result = await outbound.call()
    assert not result.ok  # the staff phone's call was never answered...
    assert not any(line.startswith("answered ") for line in result.log.splitlines())
    assert outbound.callee_was_called()  # ...though the callee was reached and asked
    row = only_row(await hangup_service.settled())
    assert row.consent == Consent.NO_RESPONSE
    assert row.ended_at is not None
    assert row.recording_status == RecordingStatus.NONE
    assert all_recordings(asterisk) == before


async def test_outbound_through_callrec_with_the_feature_off_is_never_recorded(
    service: Service, asterisk: AsteriskSandbox, outbound: Outbound
):
    """With [outbound] off (the default) a call sent through callrec-outbound goes straight
    through: no announcement, no row, no file."""
    before = all_recordings(asterisk)
    result = await outbound.call()
    assert result.ok, result.errors
    assert outbound.callee_was_called()
    assert await service.settled() == []
    assert all_recordings(asterisk) == before


async def test_outbound_calls_go_through_unrecorded_when_the_service_is_down(
    asterisk: AsteriskSandbox, outbound: Outbound, tmp_path: Path
):
    """Fail-open: with no service Stasis() fails, the call is connected unrecorded and written
    to the register; the service, once back, stores it as an outbound service_unavailable row."""
    register = asterisk.recordings_service_dir / REGISTER_FILE
    for stale in (register, register.with_name(register.name + ".importing")):
        stale.unlink(missing_ok=True)  # lines of earlier tests' fail-open calls
    before = all_recordings(asterisk)
    result = await outbound.call()
    assert result.ok, result.errors
    assert outbound.callee_was_called()
    assert "outbound Stasis status FAILED, connecting unrecorded" in asterisk_log(asterisk)
    assert register.exists()

    data = outbound_config(asterisk, tmp_path)
    data["dialplan"]["register_file"] = str(register)
    settings = parse(data, {}, base_dir=PROJECT_DIR)
    async with running(asterisk, tmp_path, data):
        [row] = await until(lambda: lookup.latest(settings.database.url, 10), within=15)
    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert (row.caller_e164, row.dialled_number, row.agent) == ("+40211234567", CALLEE, STAFF)
    assert row.ended_at is not None
    assert row.recording_status == RecordingStatus.NONE
    assert all_recordings(asterisk) == before

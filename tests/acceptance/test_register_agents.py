"""Agents in the fail-open register on the real Asterisk (issue 16): a queued call connected
while callrec is down names its agent in the register, and the row callrec imports from it
has the agent's leg with times (Queue() leaves the end line without an agent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrec_ari.config.parse import REGISTER_FILE
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.records import Consent
from callrec_ari.sandbox.asterisk import QUEUE_DID, AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent, place_calls
from tests.acceptance.conftest import imported_from_register, sandbox_settings
from tests.acceptance.test_fail_open import logged, seconds_apart, sipp_time

pytestmark = pytest.mark.asterisk


async def test_a_queued_call_connected_while_callrec_is_down_lists_its_agent_with_times(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """callrec is not running: the queue connects the caller to agent100 unrecorded and the
    dialplan writes agent100's answer and hang-up beside the call's lines; once callrec
    starts, the row names agent100, answered when the caller's phone saw the answer, and its
    leg runs from then to the hang-up."""
    register = asterisk.recordings_service_dir / REGISTER_FILE
    for stale in (register, register.with_name(register.name + ".importing")):
        stale.unlink(missing_ok=True)  # lines of earlier tests' fail-open calls
    caller = "48223000016"
    script = CallerScript(did=QUEUE_DID, caller=caller, wait_ms=500, talk_ms=3000)
    result = await place_calls(asterisk.settings, script, tmp_path / "caller")
    assert result.ok, result.errors
    lines = register.read_text(encoding="utf-8").splitlines()
    events = [line.split("|")[1] for line in lines]
    # The caller's hangup handler may write the end line before the agent's writes theirs.
    assert events[:2] == ["start", "agent-answered"], lines
    assert sorted(events[2:]) == ["agent-left", "end"], lines

    row = await imported_from_register(asterisk, tmp_path, register)
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert (row.caller_number, row.dialled_number, row.agent) == (caller, QUEUE_DID, "agent100")
    answered = sipp_time(logged(result, "answered", caller))
    hangup = sipp_time(logged(result, "hangup", caller))
    assert seconds_apart(row.answered_at, answered) < 1
    engine = create_engine(sandbox_settings(asterisk, tmp_path).database.url)
    try:
        async with create_session_factory(engine)() as session:
            [leg] = (await agent_legs_of(session, [row.uniqueid]))[row.uniqueid]
    finally:
        await engine.dispose()
    assert leg.agent == "agent100"
    assert seconds_apart(leg.joined_at, answered) < 1
    assert seconds_apart(leg.left_at, hangup) < 1
    assert not register.exists()  # imported, then deleted

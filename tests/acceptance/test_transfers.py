"""Queues and transfers on the real Asterisk (issue 16): a call queued, answered by agent A
and passed to agent B, blind (REFER) or attended (A calls B first, then REFER with Replaces),
keeps one recording and one row, lists A and B with their times, and both agents find and
play it in the web app while a third cannot."""

from __future__ import annotations

import hashlib
import wave
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.config import parse
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.evidence.facts import Kind
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import QUEUE_DID, AsteriskSandbox
from callrec_ari.sandbox.session import PROJECT_DIR, SandboxSession
from callrec_ari.sandbox.sipp import CallerScript, SippAgent, Transfer
from callrec_ari.staff import accounts
from callrec_ari.web.app import build_web_app
from tests.acceptance.conftest import Service, acceptance_config, recordings_of, sha256_of
from tests.support.passwords import CHEAP_PASSWORDS
from tests.web.conftest import PASSWORD, Person, sign_in
from tests.web.test_calls import listen

pytestmark = pytest.mark.asterisk

TRANSFER_AFTER_MS = 3000  # A talks this long before passing the caller on
CONSULT_MS = 2000  # an attended transfer: A and B talk this long first
TALK_MS = 14000  # the caller's whole conversation after the announcement


@pytest.fixture
def phone_b(asterisk: AsteriskSandbox, tmp_path: Path) -> Iterator[SippAgent]:
    """Agent B's phone (agent101), answering every call it gets."""
    phone = SippAgent(asterisk.settings.phones[1], tmp_path / "agent-b", media_port=16100)
    phone.start()
    try:
        yield phone
    finally:
        phone.stop()


def transferring_a(
    sandbox_session: SandboxSession, tmp_path: Path, kind: Literal["blind", "attended"]
) -> SippAgent:
    """Agent A's phone (agent100, first in the queue) passing every caller on to agent101."""
    transfer = Transfer(
        kind=kind, target="agent101", after_ms=TRANSFER_AFTER_MS, consult_ms=CONSULT_MS
    )
    assert sandbox_session.asterisk is not None
    return SippAgent(sandbox_session.asterisk.settings.phones[0], tmp_path / "a", transfer=transfer)


@pytest.fixture
async def queue_service(asterisk: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Service]:
    """The service with a route for the queue's DID (the short announcement)."""
    data = acceptance_config(asterisk, tmp_path)
    data["route"].append(
        {"dids": [QUEUE_DID], "languages": ["en"], "prompt": "decline-hint", "retention": "days-7"}
    )
    service = Service(parse(data, {}, base_dir=PROJECT_DIR), asterisk, tmp_path)
    await service.start()
    yield service
    await service.stop()


async def add_agents(url: str) -> dict[str, Person]:
    """Three agents (password ``PASSWORD``, no second factor): A, B and a colleague C."""
    people = {
        "anna": Person("anna", frozenset({Role.AGENT}), "agent100", None),
        "bert": Person("bert", frozenset({Role.AGENT}), "agent101", None),
        "cleo": Person("cleo", frozenset({Role.AGENT}), "agent102", None),
    }
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for person in people.values():
                await accounts.create_user(
                    session,
                    by="cli:test",
                    username=person.username,
                    display_name=person.username.title(),
                    password=PASSWORD,
                    passwords=CHEAP_PASSWORDS,
                    roles=list(person.roles),
                    extension=person.extension,
                    totp_exempt=True,
                    now=datetime.now(UTC),
                )
    finally:
        await engine.dispose()
    return people


@pytest.mark.parametrize("kind", ["blind", "attended"])
async def test_a_transferred_call_keeps_one_recording_and_lists_both_agents(
    kind: Literal["blind", "attended"],
    sandbox_session: SandboxSession,
    phone_b: SippAgent,
    queue_service: Service,
    tmp_path: Path,
):
    """The queue rings agent100 first, who passes the caller to agent101: one row, one
    recording as long as the conversation, a leg for each agent in order (A's ends when B's
    begins or before), the announcement heard once; agent100 and agent101 find the call by
    their own search and play it, agent102 neither finds nor plays it."""
    session_agent = sandbox_session.agent
    assert session_agent is not None
    session_agent.stop()
    phone_a = transferring_a(sandbox_session, tmp_path, kind)
    phone_a.start()
    try:
        script = CallerScript(
            did=QUEUE_DID,
            caller="48227100016",
            wait_ms=queue_service.listen_ms(QUEUE_DID),
            talk_ms=TALK_MS,
        )
        result = await queue_service.call(script, timeout_seconds=60)
        assert result.ok, result.errors
        [row] = await queue_service.settled()
    finally:
        phone_a.stop()
        session_agent.start()

    assert row.consent == Consent.GIVEN
    assert row.recording_status == RecordingStatus.COMPLETE
    assert row.agent == "agent100"  # the first agent, as before
    # One recording (mix and two legs) under the caller's channel, none for the agents'.
    assert [p.name for p in recordings_of(queue_service.asterisk, row.uniqueid)] == [
        f"{row.uniqueid}.agent.wav",
        f"{row.uniqueid}.caller.wav",
        f"{row.uniqueid}.wav",
    ]
    assert row.sha256 == sha256_of(queue_service.wav(row))
    assert row.duration_seconds is not None
    with wave.open(str(queue_service.wav(row)), "rb") as wav:
        assert row.duration_seconds == pytest.approx(wav.getnframes() / wav.getframerate(), 0.01)
    # MixMonitor writes while audio flows: the caller's 7 s of speech from A's answer, and
    # B's 7 s from their answer (3 s or more later). The file runs past the caller's own:
    # B's voice after the transfer is in the same recording.
    assert row.duration_seconds >= TRANSFER_AFTER_MS / 1000 + 6, row.duration_seconds
    # The announcement was played once, before A; nothing of it after the transfer.
    assert [fact.kind for fact in row.evidence].count(Kind.HEARD) == 1
    assert len(phone_b.invites()) == 1

    engine = create_engine(queue_service.settings.database.url)
    try:
        async with create_session_factory(engine)() as session:
            legs = (await agent_legs_of(session, [row.uniqueid]))[row.uniqueid]
    finally:
        await engine.dispose()
    assert [leg.agent for leg in legs] == ["agent100", "agent101"]
    a, b = legs
    assert a.joined_at == row.answered_at
    assert a.left_at is not None
    assert b.left_at is not None
    passed_on = (a.left_at - a.joined_at).total_seconds()
    expected = TRANSFER_AFTER_MS / 1000 + (CONSULT_MS / 1000 if kind == "attended" else 0)
    assert expected - 0.5 <= passed_on <= expected + 2.5, legs  # the phone's 1.5 s at most
    if kind == "attended":
        assert b.joined_at >= a.left_at  # found beside the caller once A had left
    else:
        assert (b.joined_at - a.joined_at).total_seconds() >= TRANSFER_AFTER_MS / 1000
    assert row.ended_at is not None
    assert abs((b.left_at - row.ended_at).total_seconds()) < 0.5  # B stayed to the end
    assert (b.left_at - b.joined_at).total_seconds() > 5  # B talked to the end

    people = await add_agents(queue_service.settings.database.url)
    for name, allowed in (("anna", True), ("bert", True), ("cleo", False)):
        app = build_web_app(queue_service.settings)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            person = people[name]
            await sign_in(client, person, clock=None)
            found = await (
                await client.get("/api/calls", params={"agent": person.extension or ""})
            ).json()
            mine = await (await client.get("/api/calls")).json()
            response = await listen(client, row.uniqueid)
            if not allowed:
                assert found["calls"] == [], name
                assert mine["calls"] == [], name
                assert response.status == 404, name
                continue
            assert [c["uniqueid"] for c in found["calls"]] == [row.uniqueid], name
            assert [c["uniqueid"] for c in mine["calls"]] == [row.uniqueid], name
            assert mine["calls"][0]["playable"] is True, name
            assert response.status == 303, name
            audio = await (await client.get(f"/calls/{row.uniqueid}/audio")).read()
            assert hashlib.sha256(audio).hexdigest() == row.sha256, name

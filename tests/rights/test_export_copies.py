"""A data-subject export: only for an open access or portability request of that number; the
caller's own leg unless the agent consented; every copy in the register and the trail."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest
from sqlalchemy import select, update

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.audit.verify import verify_chain
from callrec_ari.copies.register import AgentConsent
from callrec_ari.db.models import AuditEntry, Copy, DsrAction, DsrRequest
from callrec_ari.errors import ForbiddenError, InputError
from callrec_ari.rights.export import NEEDS_CONSENT, export_number
from tests.rights.conftest import (
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    files,
    open_export_request,
    recorded,
    snapshot,
    with_caller_leg,
)

CONSENT = AgentConsent(agent="agent100", given_on="2026-11-30", how="signed form, kept by HR")


async def export(session_factory, recordings, out, **more):
    async with session_factory() as session, session.begin():
        return await export_number(
            session, recordings, NUMBER, out, actor=DPO, now=NOW, region=REGION, **more
        )


async def register(session_factory):
    async with session_factory() as session:
        return list(await session.scalars(select(Copy).order_by(Copy.id)))


async def entries(session_factory, action):
    async with session_factory() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return [json.loads(row.detail) for row in rows]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_an_export_without_a_request_is_refused_and_writes_nothing(
    session_factory, store, recordings, tmp_path
):
    """No request named: one sentence, no folder, no row, no copy."""
    await store(recorded(recordings, "a1"))
    before = await snapshot(session_factory)
    with pytest.raises(ForbiddenError, match="only to answer an open access or portability"):
        await export(session_factory, recordings, tmp_path / "out", request_id=None)
    assert not (tmp_path / "out").exists()
    assert await snapshot(session_factory) == before
    assert await register(session_factory) == []


@pytest.mark.parametrize("kind", ["erasure", "withdrawal", "restriction", "objection"])
async def test_a_request_of_another_kind_lets_no_recording_out(
    session_factory, store, recordings, tmp_path, kind
):
    """Only access (Art. 15) and portability (Art. 20) requests carry recordings out."""
    await store(recorded(recordings, "a1"))
    request_id = await open_export_request(session_factory, kind=kind)
    with pytest.raises(ForbiddenError, match=f"is a {kind} request"):
        await export(session_factory, recordings, tmp_path / "out", request_id=request_id)
    assert not (tmp_path / "out").exists()
    assert await register(session_factory) == []


async def test_a_closed_request_or_another_number_s_is_refused(
    session_factory, store, recordings, tmp_path
):
    """The request must be open and about the number exported."""
    await store(recorded(recordings, "a1"))
    others = await open_export_request(session_factory, number=OTHER)
    with pytest.raises(ForbiddenError, match=re.escape(f"is about {OTHER}, not {NUMBER}")):
        await export(session_factory, recordings, tmp_path / "o", request_id=others)
    closed = await open_export_request(session_factory)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(DsrRequest).where(DsrRequest.id == closed).values(status="done")
        )
    with pytest.raises(ForbiddenError, match="needs an open one"):
        await export(session_factory, recordings, tmp_path / "c", request_id=closed)
    assert await register(session_factory) == []


async def test_the_package_holds_the_caller_s_leg_and_not_the_mix(
    session_factory, store, recordings, tmp_path
):
    """Without the agent's consent only the caller's voice leaves; the copy is registered."""
    record = recorded(recordings, "a1")
    leg = with_caller_leg(recordings, record)
    await store(record)
    request_id = await open_export_request(session_factory)

    package = await export(session_factory, recordings, tmp_path / "out", request_id=request_id)

    out = files(tmp_path / "out")
    assert "recordings/a1.caller.wav" in out
    assert "recordings/a1.wav" not in out
    assert out["recordings/a1.caller.wav"] == leg.read_bytes()
    mix = (recordings / record.recording_path).read_bytes()
    assert mix not in out.values()
    assert package.files["recordings/a1.caller.wav"] == sha256(leg.read_bytes())
    [row] = await register(session_factory)
    assert (row.uniqueid, row.kind, row.sha256) == ("a1", "caller", sha256(leg.read_bytes()))
    assert (row.request_id, row.release_id, row.consent) == (request_id, None, None)
    assert (row.recipient, row.made_by, row.made_at) == ("the caller, by letter", "dpo-anna", NOW)
    [audited] = await entries(session_factory, "copy.out")
    assert audited["copy"] == row.id
    assert (audited["kind"], audited["sha256"], audited["request"]) == (
        "caller",
        row.sha256,
        request_id,
    )


async def test_with_the_agent_s_consent_the_mix_goes_out_and_the_consent_is_kept(
    session_factory, store, recordings, tmp_path
):
    """The dpo states who consented, when and how: the mix leaves, the statement is stored."""
    record = recorded(recordings, "a1")
    with_caller_leg(recordings, record)
    await store(record)
    request_id = await open_export_request(session_factory, kind="portability")

    await export(
        session_factory,
        recordings,
        tmp_path / "out",
        request_id=request_id,
        agent_consent=CONSENT,
    )

    out = files(tmp_path / "out")
    assert out["recordings/a1.wav"] == (recordings / record.recording_path).read_bytes()
    assert "recordings/a1.caller.wav" not in out
    [row] = await register(session_factory)
    assert (row.kind, row.sha256) == ("mix", record.sha256)
    assert json.loads(row.consent) == CONSENT.to_json()
    [audited] = await entries(session_factory, "copy.out")
    assert audited["agent_consent"] == CONSENT.to_json()
    async with session_factory() as session:
        action = await session.scalar(select(DsrAction).where(DsrAction.action == "exported"))
    assert json.loads(action.detail)["agent_consent"] == CONSENT.to_json()


async def test_another_agent_s_consent_does_not_cover_the_call(
    session_factory, store, recordings, tmp_path
):
    """Consent is the agent's own: a call answered by someone else still leaves as the leg."""
    record = recorded(recordings, "a1")
    with_caller_leg(recordings, record)
    await store(record)
    request_id = await open_export_request(session_factory)
    stranger = AgentConsent(agent="agent999", given_on="2026-11-30", how="email")
    await export(
        session_factory, recordings, tmp_path / "out", request_id=request_id, agent_consent=stranger
    )
    assert sorted(files(tmp_path / "out" / "recordings")) == ["a1.caller.wav"]


async def test_a_transferred_call_says_who_spoke_and_one_agent_s_consent_keeps_the_mix_in(
    session_factory, store, recordings, tmp_path
):
    """agent100 passed the call to agent101: the package says who spoke from when to when
    (calls.json and summary.txt), and agent100's consent alone does not let out a mix that
    holds agent101's voice too: the caller's leg goes out instead."""
    record = recorded(recordings, "a1")
    start = record.started_at
    legs = (
        AgentLeg(agent="agent100", channel_id="c1", joined_at=start, left_at=start),
        AgentLeg(agent="agent101", channel_id="c2", joined_at=start, left_at=record.ended_at),
    )
    record = dataclasses.replace(record, agent_legs=legs)
    with_caller_leg(recordings, record)
    await store(record)
    request_id = await open_export_request(session_factory)
    await export(
        session_factory, recordings, tmp_path / "out", request_id=request_id, agent_consent=CONSENT
    )
    assert sorted(files(tmp_path / "out" / "recordings")) == ["a1.caller.wav"]
    [call] = json.loads((tmp_path / "out" / "calls.json").read_text())["calls"]
    assert call["agents"] == [
        {"agent": leg.agent, "joined_at": leg.joined_at.isoformat(), "left_at": end}
        for leg, end in zip(legs, [start.isoformat(), record.ended_at.isoformat()], strict=True)
    ]
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert "  spoke       agent101 from " in summary


async def test_a_call_without_a_caller_leg_is_listed_not_exported(
    session_factory, store, recordings, tmp_path
):
    """Recorded before legs were kept: described, marked not exportable, no audio copied."""
    await store(recorded(recordings, "old"))
    request_id = await open_export_request(session_factory)

    package = await export(session_factory, recordings, tmp_path / "out", request_id=request_id)

    assert package.without_consent == ("old",)
    assert package.problems == ()
    assert files(tmp_path / "out" / "recordings") == {}
    document = json.loads((tmp_path / "out" / "calls.json").read_text(encoding="utf-8"))
    [call] = document["calls"]
    assert (call["file"], call["file_problem"]) == (None, NEEDS_CONSENT)
    assert (
        "not exportable without the agent's consent"
        in (tmp_path / "out" / "summary.txt").read_text()
    )
    assert await register(session_factory) == []


async def test_the_trail_stays_whole(session_factory, store, recordings, tmp_path):
    """Copies and refusals are appended to the hash chain, which still verifies."""
    record = recorded(recordings, "a1")
    with_caller_leg(recordings, record)
    await store(record)
    request_id = await open_export_request(session_factory)
    await export(session_factory, recordings, tmp_path / "out", request_id=request_id)
    async with session_factory() as session:
        assert (await verify_chain(session)).intact


@pytest.mark.parametrize(
    ("agent", "given_on", "how"),
    [("agent100", None, "form"), ("agent100", "2026-11-30", " "), (None, "2026-11-30", "form")],
)
def test_a_half_stated_consent_is_refused(agent, given_on, how):
    """Who, when and how, all three, or none."""
    with pytest.raises(InputError, match="The agent's consent needs"):
        AgentConsent.stated(agent, given_on, how)


def test_no_consent_stated_is_none():
    """Three blank fields state no consent."""
    assert AgentConsent.stated("", None, "  ") is None


async def test_a_caller_leg_changed_since_it_was_recorded_is_not_exported(
    session_factory, store, recordings, tmp_path
):
    """The leg's SHA-256 stored when the call settled is checked like the mix's: a leg
    altered on disk since does not leave (the package names the problem), nothing is
    registered."""
    record = recorded(recordings, "a9")
    leg = with_caller_leg(recordings, record)
    await store(dataclasses.replace(record, caller_leg_sha256=sha256(leg.read_bytes())))
    leg.write_bytes(leg.read_bytes()[:-2] + b"\x01\x00")  # one sample changed
    request_id = await open_export_request(session_factory)

    package = await export(session_factory, recordings, tmp_path / "out", request_id=request_id)

    [problem] = package.problems
    assert problem.uniqueid == "a9"
    assert "SHA-256 differs" in problem.message
    assert "recordings/a9.caller.wav" not in files(tmp_path / "out")
    assert await register(session_factory) == []
